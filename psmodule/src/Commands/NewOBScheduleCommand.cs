using System;
using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// New-OBSchedule: a backup schedule (State New), kept in PowerShell until Set-OBSchedule attaches
    /// it to a policy and Set-OBPolicy commits it. Default: every Sunday at 21:00, every week. The
    /// engine validates it (ob_schedule_validate): at least one day, 1 to 3 distinct times of day,
    /// WeeklyFrequency 1 to 4; its message names the allowed values (InvalidInput, InvalidArgument).
    /// </summary>
    [Cmdlet(VerbsCommon.New, "OBSchedule")]
    [OutputType(typeof(OBSchedule))]
    public sealed class NewOBScheduleCommand : OBCmdletBase
    {
        [Parameter(Position = 0)]
        public DayOfWeek[] DaysOfWeek { get; set; }

        [Parameter(Position = 1)]
        public TimeSpan[] TimesOfDay { get; set; }

        [Parameter]
        public int WeeklyFrequency { get; set; }

        protected override void Execute()
        {
            var days = MyInvocation.BoundParameters.ContainsKey("DaysOfWeek") ? DaysOfWeek : new[] { DayOfWeek.Sunday };
            var times = MyInvocation.BoundParameters.ContainsKey("TimesOfDay") ? TimesOfDay : new[] { TimeSpan.FromHours(21) };
            int every = MyInvocation.BoundParameters.ContainsKey("WeeklyFrequency") ? WeeklyFrequency : 1;
            int[] minutes;
            try
            {
                minutes = Protection.Minutes(times, "TimesOfDay");
            }
            catch (Protection.Refusal ex)
            {
                ThrowError(ex.Message, ex.ErrorId, ErrorCategory.InvalidArgument, null);
                return;
            }
            ScheduleInfo checkedSchedule = Native.ScheduleValidate(new ScheduleInfo
            {
                Days = Protection.DayMask(days),
                Times = minutes,
                WeeklyFrequency = every,
            });
            WriteObject(Protection.FromInfo(checkedSchedule, Guid.NewGuid().ToString(), PolicyObjectState.New));
        }
    }
}
