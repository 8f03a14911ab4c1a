using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>Get-OBMachineUsage: the bytes this server stores in its vault, measured from the vault.</summary>
    [Cmdlet(VerbsCommon.Get, "OBMachineUsage")]
    [OutputType(typeof(OBMachineUsage))]
    public sealed class GetOBMachineUsageCommand : OBCmdletBase
    {
        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                ulong used = Native.MachineUsage(agent);
                WriteObject(new OBMachineUsage { StorageUsedByMachineInBytes = used, Time = System.DateTime.Now });
            }
        }
    }
}
