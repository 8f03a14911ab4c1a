using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Restore-OBDeletedRecoveryPoint (obagent's own): undelete a soft-deleted recovery point of a
    /// server, as the vault owner (the vault by -Path or by its Azure container and account key),
    /// before vault maintenance purges it.
    /// </summary>
    [Cmdlet(VerbsData.Restore, "OBDeletedRecoveryPoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
        DefaultParameterSetName = AzureVault.PathSet)]
    public sealed class RestoreOBDeletedRecoveryPointCommand : OBVaultCmdletBase
    {
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string ServerName { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string RecoveryPointId { get; set; }

        protected override void Execute()
        {
            if (!ShouldProcess(RecoveryPointId, "Undelete the recovery point of server '" + ServerName + "'"))
                return;
            using (VaultHandle vault = OpenVault())
            {
                Native.VaultUndelete(vault, ServerName, RecoveryPointId);
            }
        }
    }
}
