using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBPolicy: the committed file and folder policy of this server, with its BackupSchedule and
    /// RetentionPolicy (State Existing); nothing when there is none.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBPolicy")]
    [OutputType(typeof(OBPolicy))]
    public sealed class GetOBPolicyCommand : OBCmdletBase
    {
        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                OBPolicy policy = PolicyMapping.Committed(agent, withProtection: true);
                if (policy != null)
                    WriteObject(policy);
            }
        }
    }
}
