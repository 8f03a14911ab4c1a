using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Set-OBSystemStatePolicy: commit a policy object made by Add-OBSystemState as this server's
    /// System State policy, with its BackupSchedule and RetentionPolicy (ob_systemstate_policy_commit).
    /// The schedule runs at most once a day: the engine refuses two or more times of day. Returns the
    /// committed policy (State Existing).
    ///
    /// Refusals made here: NotSystemStatePolicy (InvalidArgument), a policy not passed through Add-OBSystemState.
    /// </summary>
    // Medium, no prompt by default: Microsoft's documented pipeline (mars.md 3, step 18) ends in
    // Set-OBSystemStatePolicy without -Confirm:$false and runs unattended.
    [Cmdlet(VerbsCommon.Set, "OBSystemStatePolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(OBPolicy))]
    public sealed class SetOBSystemStatePolicyCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        protected override void Execute()
        {
            if (!Policy.IsSystemState)
            {
                ThrowError("This policy has no System State data source. Make a System State policy with "
                    + "New-OBPolicy | Add-OBSystemState, then commit it with Set-OBSystemStatePolicy.",
                    "NotSystemStatePolicy", ErrorCategory.InvalidArgument, Policy);
                return;
            }
            ScheduleInfo schedule;
            RetentionInfo retention;
            try
            {
                schedule = Protection.ToInfo(Policy.BackupSchedule);
                retention = Protection.ToInfo(Policy.RetentionPolicy);
            }
            catch (Protection.Refusal ex)
            {
                ThrowError(ex.Message, ex.ErrorId, ErrorCategory.InvalidArgument, null);
                return;
            }
            if (schedule != null)
                schedule.SystemState = true;
            if (!ShouldProcess(ServerNameHint(), "Replace the System State backup policy of this server"))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                int state;
                using (PolicyHandle policy = Native.SystemStatePolicyCommit(agent, schedule, retention))
                {
                    state = Native.PolicyState(policy);
                }
                // As Set-OBPolicy: the object's PolicyState (Set-OBPolicyState on a new policy) is committed too.
                if (state != (int)Policy.PolicyState)
                    Native.SystemStatePolicySetState(agent, (int)Policy.PolicyState);
                WriteObject(PolicyMapping.CommittedSystemState(agent));
            }
        }
    }
}
