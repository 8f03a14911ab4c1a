namespace Microsoft.Internal.CloudBackup.Client.Common
{
    /// <summary>CBClientCommon.GetAgentUpdateInfo: obagent has no update pop-up.</summary>
    public sealed class CBAgentUpdateInfo
    {
        public bool ShowAgentUpdatePopup { get; internal set; }
    }
}
