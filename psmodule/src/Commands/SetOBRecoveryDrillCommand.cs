using System;
using System.Globalization;
using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Set-OBRecoveryDrill (obagent extension): the days and times at which the service runs a
    /// restore drill of the newest recovery point, every week, in local time (as New-OBSchedule's
    /// days and times); -Remove stops scheduled drills. Refusals: TimeOfDayNotWholeMinute
    /// (InvalidArgument) here, the engine's for the rest (no day, no time, more than 3 times,
    /// a time given twice or outside 00:00..23:59).
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "OBRecoveryDrill", DefaultParameterSetName = "Schedule",
        SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(OBRecoveryDrill))]
    public sealed class SetOBRecoveryDrillCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Schedule")]
        [ValidateNotNullOrEmpty]
        public DayOfWeek[] DaysOfWeek { get; set; }

        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "Schedule")]
        [ValidateNotNullOrEmpty]
        public TimeSpan[] TimesOfDay { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Remove")]
        public SwitchParameter Remove { get; set; }

        /// <summary>Return the drill settings as Get-OBRecoveryDrill shows them.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void Execute()
        {
            uint days = 0;
            int[] minutes = new int[0];
            string what = "no scheduled drills";
            if (ParameterSetName == "Schedule")
            {
                try
                {
                    minutes = Protection.Minutes(TimesOfDay, "TimesOfDay");
                }
                catch (Protection.Refusal ex)
                {
                    ThrowError(ex.Message, ex.ErrorId, ErrorCategory.InvalidArgument, TimesOfDay);
                    return;
                }
                days = Protection.DayMask(DaysOfWeek);
                what = string.Format(CultureInfo.InvariantCulture, "drills on {0} at {1}",
                    string.Join(", ", DaysOfWeek), string.Join(", ", TimesOfDay));
            }
            if (!ShouldProcess(what, "Set the restore drill schedule"))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                Native.DrillScheduleSet(agent, days, minutes);
                if (PassThru.IsPresent)
                    WriteObject(DrillMapping.ToOBRecoveryDrill(Native.DrillGet(agent)));
            }
        }
    }
}
