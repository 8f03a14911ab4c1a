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
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "OBPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    public sealed class RemoveOBPolicyCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        [Parameter]
        public SwitchParameter DeleteBackup { get; set; }

        /// <summary>The vault owner's security PIN, needed with -DeleteBackup.</summary>
        [Parameter]
        public string SecurityPin { get; set; }

        protected override void Execute()
        {
            string action = DeleteBackup.IsPresent
                ? "Remove the backup policy and delete this server's file and folder backups"
                : "Remove the backup policy (protection stops; the backups stay in the vault)";
            if (!ShouldProcess(Policy.ToString(), action))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                if (DeleteBackup.IsPresent)
                    Native.PolicyDeleteBackups(agent, "FileFolder", SecurityPin);
                Native.PolicyRemove(agent, false);
            }
        }
    }
}
