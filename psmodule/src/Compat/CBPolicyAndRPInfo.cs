using OBAgent;

namespace Microsoft.Internal.CloudBackup.Client.Common
{
    /// <summary>What CBClientCommon.GetPolicyAndRPInfoForMachine returns.</summary>
    public sealed class CBPolicyAndRPInfo
    {
        /// <summary>The committed file policy as Get-OBPolicy returns it, null when none.</summary>
        public OBPolicy Policy { get; internal set; }

        public CBRecoveryPointsInfo RecoveryPointsInfo { get; internal set; }
    }
}
