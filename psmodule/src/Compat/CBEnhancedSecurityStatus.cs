namespace Microsoft.Internal.CloudBackup.Client.Common
{
    /// <summary>CBClientCommon.GetEnhancedSecurityStatus: whether a security PIN is needed for critical operations.</summary>
    public sealed class CBEnhancedSecurityStatus
    {
        /// <summary>"Enabled": obagent always asks for a security PIN for critical operations (see docs).</summary>
        public string TokenState { get; internal set; }
    }
}
