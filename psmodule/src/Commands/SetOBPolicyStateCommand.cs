using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Set-OBPolicyState: pause (Paused) or resume (Valid) protection. A committed policy changes at
    /// once; a new one carries the state until Set-OBPolicy. Returns the policy, so that MSOnlineBackup
    /// pipelines ending in Set-OBPolicy work.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "OBPolicyState", SupportsShouldProcess = true)]
    [OutputType(typeof(OBPolicy))]
    public sealed class SetOBPolicyStateCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        [Parameter(Mandatory = true, Position = 1)]
        public OBPolicyState State { get; set; }

        protected override void Execute()
        {
            if (!ShouldProcess(Policy.ToString(), State == OBPolicyState.Paused ? "Pause protection" : "Resume protection"))
                return;
            if (Policy.State == PolicyObjectState.Existing)
            {
                using (AgentHandle agent = Native.AgentOpen(null))
                {
                    // The policy's own kind: a System State policy's state never touches the file policy's.
                    if (Policy.IsSystemState)
                        Native.SystemStatePolicySetState(agent, (int)State);
                    else
                        Native.PolicySetState(agent, (int)State);
                }
            }
            Policy.PolicyState = State;
            WriteObject(Policy);
        }
    }
}
