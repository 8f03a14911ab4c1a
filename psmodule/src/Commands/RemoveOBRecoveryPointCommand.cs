using System;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Remove-OBRecoveryPoint (obagent's own): soft-delete a recovery point of this server, given as
    /// the point item from Get-OBRecoverableItem -Source. It leaves the listings, stays restorable by
    /// the vault owner (Restore-OBDeletedRecoveryPoint) and its space is reclaimed by
    /// Start-OBVaultMaintenance after 14 days. Deleting needs a security PIN from the vault owner
    /// (New-OBSecurityPin), checked by the engine (ob_recovery_point_remove) as for
    /// Remove-OBPolicy -DeleteBackup: a missing, wrong or expired PIN deletes nothing.
    ///
    /// Refusals made here: NotARecoveryPoint (InvalidArgument), an item that is a file or folder
    /// inside a point; NotThisServer (InvalidArgument), a point of another server.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "OBRecoveryPoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    public sealed class RemoveOBRecoveryPointCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBRecoverableItem RecoverableItem { get; set; }

        /// <summary>The vault owner's security PIN (New-OBSecurityPin).</summary>
        [Parameter]
        public string SecurityPin { get; set; }

        protected override object ErrorTarget
        {
            get { return RecoverableItem; }
        }

        protected override void Execute()
        {
            if (!RecoverableItem.IsRecoveryPoint || string.IsNullOrEmpty(RecoverableItem.RecoveryPointId))
            {
                ThrowError("Remove-OBRecoveryPoint takes a recovery point (Get-OBRecoverableSource | Get-OBRecoverableItem), "
                    + "not a file or folder inside one.", "NotARecoveryPoint", ErrorCategory.InvalidArgument, RecoverableItem);
                return;
            }
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                string server = Native.AgentServerName(agent);
                if (!string.IsNullOrEmpty(RecoverableItem.ServerName)
                    && !string.Equals(RecoverableItem.ServerName, server, StringComparison.OrdinalIgnoreCase))
                {
                    ThrowError(string.Format("The recovery point belongs to server '{0}'; only that server can delete its points.",
                        RecoverableItem.ServerName), "NotThisServer", ErrorCategory.InvalidArgument, RecoverableItem);
                    return;
                }
                string target = string.Format("{0} ({1:u})", RecoverableItem.RecoveryPointId, RecoverableItem.PointInTime);
                if (!ShouldProcess(target, "Delete the recovery point (soft delete: the vault owner can restore it for 14 days)"))
                    return;
                Native.RecoveryPointRemove(agent, RecoverableItem.RecoveryPointId, "Remove-OBRecoveryPoint", SecurityPin);
            }
        }
    }
}
