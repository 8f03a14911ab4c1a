using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>Get-OBSchedule: the schedule of a policy object; nothing when it has none.</summary>
    [Cmdlet(VerbsCommon.Get, "OBSchedule")]
    [OutputType(typeof(OBSchedule))]
    public sealed class GetOBScheduleCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        protected override void Execute()
        {
            if (Policy.BackupSchedule != null)
                WriteObject(Policy.BackupSchedule);
        }
    }
}
