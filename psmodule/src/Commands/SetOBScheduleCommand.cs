using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>
    /// Set-OBSchedule: attach a schedule to a policy object (new or from Get-OBPolicy). Nothing is
    /// committed until Set-OBPolicy, which also checks the retention against the schedule. Returns
    /// the policy, so that MSOnlineBackup pipelines go on to Set-OBRetentionPolicy or Set-OBPolicy.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "OBSchedule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(OBPolicy))]
    public sealed class SetOBScheduleCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBPolicy Policy { get; set; }

        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNull]
        public OBSchedule Schedule { get; set; }

        protected override void Execute()
        {
            if (!ShouldProcess(Policy.ToString(), "Set the backup schedule to " + Schedule))
                return;
            Policy.BackupSchedule = Schedule;
            WriteObject(Policy);
        }
    }
}
