using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>Get-OBPolicy: the committed file and folder policy of this server; nothing when there is none.</summary>
    [Cmdlet(VerbsCommon.Get, "OBPolicy")]
    [OutputType(typeof(OBPolicy))]
    public sealed class GetOBPolicyCommand : OBCmdletBase
    {
        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                OBPolicy policy = CommittedPolicy(agent);
                if (policy != null)
                    WriteObject(policy);
            }
        }
    }
}
