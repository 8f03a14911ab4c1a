using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Remove-OBSystemStatePolicy: stop the scheduled System State backups of this server. The
    /// recovery points stay; with -DeleteBackup they are soft-deleted too, which needs a security PIN
    /// from the vault owner (New-OBSecurityPin). A missing, wrong or expired PIN removes nothing.
    /// -EnablePruning as in Remove-OBPolicy (nothing deleted now; the points age out by the policy's
    /// retention, at the service's daily pass and after any file and folder backup; not with
    /// -DeleteBackup). Returns the
    /// removed policy, as MARS does; nothing when there was no System State policy.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "OBSystemStatePolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    public sealed class RemoveOBSystemStatePolicyCommand : OBCmdletBase
    {
        /// <summary>The policy from Get-OBSystemStatePolicy (optional: there is one per server).</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        public OBPolicy Policy { get; set; }

        [Parameter]
        public SwitchParameter DeleteBackup { get; set; }

        /// <summary>Keep the points until their retention expires, then they age out; nothing is deleted now.</summary>
        [Parameter]
        public SwitchParameter EnablePruning { get; set; }

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
                ? "Remove the System State policy and delete this server's System State backups"
                : EnablePruning.IsPresent
                    ? "Remove the System State policy (its backups stay in the vault until their retention expires)"
                    : "Remove the System State policy (its backups stay in the vault)";
            if (!ShouldProcess(Policy != null ? Policy.ToString() : ServerNameHint(), action))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                OBPolicy removed = Policy ?? PolicyMapping.CommittedSystemState(agent);
                if (EnablePruning.IsPresent)
                    Native.PolicyRemovePruning(agent, "SystemState");
                else
                    Native.SystemStatePolicyRemove(agent, DeleteBackup.IsPresent, SecurityPin);
                if (removed != null)
                    WriteObject(removed);
            }
        }
    }
}
