using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBRecoveryDrill (obagent extension): the restore drill schedule, the sample a drill
    /// restores, and the last drill's outcome (docs/JOBS.md, "The drill job").
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBRecoveryDrill")]
    [OutputType(typeof(OBRecoveryDrill))]
    public sealed class GetOBRecoveryDrillCommand : OBCmdletBase
    {
        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                WriteObject(DrillMapping.ToOBRecoveryDrill(Native.DrillGet(agent)));
            }
        }
    }
}
