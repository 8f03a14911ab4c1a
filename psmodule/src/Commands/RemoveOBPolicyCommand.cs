using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Remove-OBPolicy: stop protecting this server's files and folders. The backups stay in the
    /// vault; -DeleteBackup records the request to delete them, which vault maintenance carries out.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "OBPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    public sealed class RemoveOBPolicyCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        [Parameter]
        public SwitchParameter DeleteBackup { get; set; }

        /// <summary>Accepted for compatibility with MSOnlineBackup scripts; deletion is vault maintenance here.</summary>
        [Parameter]
        public string SecurityPin { get; set; }

        protected override void Execute()
        {
            string action = DeleteBackup.IsPresent
                ? "Remove the backup policy and request deletion of this server's backups"
                : "Remove the backup policy (protection stops; the backups stay in the vault)";
            if (!ShouldProcess(Policy.ToString(), action))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                Native.PolicyRemove(agent, DeleteBackup.IsPresent);
            }
            if (DeleteBackup.IsPresent)
                WriteWarning("The request to delete this server's backups is recorded; vault maintenance deletes them.");
        }
    }
}
