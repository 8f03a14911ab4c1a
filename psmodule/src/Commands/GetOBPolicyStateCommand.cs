using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>Get-OBPolicyState: Valid (protection runs) or Paused. For a committed policy, read from the agent.</summary>
    [Cmdlet(VerbsCommon.Get, "OBPolicyState")]
    [OutputType(typeof(OBPolicyState))]
    public sealed class GetOBPolicyStateCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        protected override void Execute()
        {
            if (Policy.State == PolicyObjectState.Existing)
            {
                using (AgentHandle agent = Native.AgentOpen(null))
                {
                    OBPolicy committed = Policy.IsSystemState
                        ? PolicyMapping.CommittedSystemState(agent)
                        : PolicyMapping.Committed(agent, withProtection: false);
                    if (committed != null)
                        Policy.PolicyState = committed.PolicyState;
                }
            }
            WriteObject(Policy.PolicyState);
        }
    }
}
