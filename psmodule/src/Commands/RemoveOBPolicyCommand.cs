using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Remove-OBPolicy: stop protecting this server's files and folders. The backups stay in the
    /// vault; with -DeleteBackup every file and folder recovery point is soft-deleted too
    /// (ob_policy_delete_backups), which needs a security PIN from the vault owner (New-OBSecurityPin).
    /// The PIN is checked first: a missing, wrong or expired PIN fails with the engine's error and
    /// leaves the policy in place, so that the command can be run again with a good PIN (the same
    /// order as ob_systemstate_policy_remove).
    ///
    /// -EnablePruning (MARS: on an immutable vault, keep the points until their retention expires
    /// instead of deleting them) removes the policy, deletes nothing now, and keeps its retention rules
    /// (ob_policy_remove_pruning): its points age out by them at the service's daily pass and after any
    /// System State backup (docs/RETENTION.md, "Pruning"). It cannot be combined with -DeleteBackup
    /// (docs/SECURITY.md). Like MARS, the cmdlet returns the removed OBPolicy, so that
    /// `if (Get-OBPolicy | Remove-OBPolicy -Confirm:$false) {...}` works.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "OBPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    public sealed class RemoveOBPolicyCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        [Parameter]
        public SwitchParameter DeleteBackup { get; set; }

        /// <summary>Keep the points until their retention expires, then they age out; nothing is deleted now.</summary>
        [Parameter]
        public SwitchParameter EnablePruning { get; set; }

        /// <summary>The vault owner's security PIN, needed with -DeleteBackup.</summary>
        [Parameter]
        public string SecurityPin { get; set; }

        protected override void Execute()
        {
            if (DeleteBackup.IsPresent && EnablePruning.IsPresent)
            {
                ThrowError("-EnablePruning keeps the backups and -DeleteBackup deletes them: give one of the two",
                    "PruningWithDeleteBackup", ErrorCategory.InvalidArgument, null);
                return;
            }
            string action = DeleteBackup.IsPresent
                ? "Remove the backup policy and delete this server's file and folder backups"
                : EnablePruning.IsPresent
                    ? "Remove the backup policy (protection stops; the backups stay in the vault until their retention expires)"
                    : "Remove the backup policy (protection stops; the backups stay in the vault)";
            if (!ShouldProcess(Policy.ToString(), action))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                if (DeleteBackup.IsPresent)
                    Native.PolicyDeleteBackups(agent, "FileFolder", SecurityPin);
                if (EnablePruning.IsPresent)
                    Native.PolicyRemovePruning(agent, "FileFolder");
                else
                    Native.PolicyRemove(agent, false);
            }
            WriteObject(Policy);
        }
    }
}
