using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBSystemStatePolicy: the committed System State policy of this server, with its
    /// BackupSchedule, RetentionPolicy and the "System State" data source; nothing when there is none.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBSystemStatePolicy")]
    [OutputType(typeof(OBPolicy))]
    public sealed class GetOBSystemStatePolicyCommand : OBCmdletBase
    {
        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                OBPolicy policy = PolicyMapping.CommittedSystemState(agent);
                if (policy != null)
                    WriteObject(policy);
            }
        }
    }
}
