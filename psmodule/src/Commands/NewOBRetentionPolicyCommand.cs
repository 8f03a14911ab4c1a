using System;
using System.Globalization;
using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// New-OBRetentionPolicy: a retention policy (State New) with MSOnlineBackup's parameters: daily
    /// points (-RetentionDays), and long-term rules switched on by -RetentionWeeklyPolicy,
    /// -RetentionMonthlyPolicy and -RetentionYearlyPolicy. The monthly and yearly rules each take a
    /// day form (-MonthDaysOfMonth / -YearDaysOfMonth: 1 to 28 and Last, as strings or numbers) or a
    /// week form (-MonthWeeksOfMonth with -MonthDaysOfWeek, -YearWeeksOfMonth with -YearDaysOfWeek);
    /// the parameter sets are the nine combinations of those forms (weekly and daily parameters
    /// belong to every set). As in Microsoft's samples and WAC, -MonthWeeksOfMonth,
    /// -YearWeeksOfMonth and -YearMonthsOfYear may be left out: the first week of the month and
    /// January (docs/RETENTION.md says why).
    ///
    /// The engine validates the result (ob_retention_validate) and names the allowed range in its
    /// message: RetentionDays 7..9999, RetentionWeeks 4..5163, RetentionMonths 3..1188,
    /// RetentionYears 1..99 (InvalidInput, InvalidArgument). Whether long-term times are scheduled
    /// times is checked by Set-OBPolicy, against the policy's schedule.
    ///
    /// Managed refusals (InvalidArgument): RetentionRuleSwitchMissing (weekly parameters without
    /// -RetentionWeeklyPolicy), RetentionRuleIncomplete (-RetentionWeeklyPolicy without
    /// -RetentionWeeks), MonthDayNotValid, TimeOfDayNotWholeMinute (Mapping/Protection.cs).
    /// </summary>
    [Cmdlet(VerbsCommon.New, "OBRetentionPolicy", DefaultParameterSetName = "Daily")]
    [OutputType(typeof(OBRetentionPolicy))]
    public sealed class NewOBRetentionPolicyCommand : OBCmdletBase
    {
        [Parameter(Position = 0)]
        public long RetentionDays { get; set; }

        [Parameter]
        public SwitchParameter RetentionWeeklyPolicy { get; set; }

        [Parameter]
        public DayOfWeek[] WeekDaysOfWeek { get; set; }

        [Parameter]
        public TimeSpan[] WeekTimesOfDay { get; set; }

        [Parameter]
        public long RetentionWeeks { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "MonthDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearWeeks")]
        public SwitchParameter RetentionMonthlyPolicy { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "MonthDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearWeeks")]
        public string[] MonthDaysOfMonth { get; set; }

        [Parameter(ParameterSetName = "MonthWeeks")]
        [Parameter(ParameterSetName = "MonthWeeksYearDays")]
        [Parameter(ParameterSetName = "MonthWeeksYearWeeks")]
        public OBWeekOfMonth[] MonthWeeksOfMonth { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearWeeks")]
        public DayOfWeek[] MonthDaysOfWeek { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "MonthDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearWeeks")]
        public TimeSpan[] MonthTimesOfDay { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "MonthDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearWeeks")]
        public long RetentionMonths { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "YearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "YearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearWeeks")]
        public SwitchParameter RetentionYearlyPolicy { get; set; }

        [Parameter(ParameterSetName = "YearDays")]
        [Parameter(ParameterSetName = "MonthDaysYearDays")]
        [Parameter(ParameterSetName = "MonthWeeksYearDays")]
        [Parameter(ParameterSetName = "YearWeeks")]
        [Parameter(ParameterSetName = "MonthDaysYearWeeks")]
        [Parameter(ParameterSetName = "MonthWeeksYearWeeks")]
        public OBMonthOfYear[] YearMonthsOfYear { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "YearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearDays")]
        public string[] YearDaysOfMonth { get; set; }

        [Parameter(ParameterSetName = "YearWeeks")]
        [Parameter(ParameterSetName = "MonthDaysYearWeeks")]
        [Parameter(ParameterSetName = "MonthWeeksYearWeeks")]
        public OBWeekOfMonth[] YearWeeksOfMonth { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "YearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearWeeks")]
        public DayOfWeek[] YearDaysOfWeek { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "YearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "YearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearWeeks")]
        public TimeSpan[] YearTimesOfDay { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "YearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearDays")]
        [Parameter(Mandatory = true, ParameterSetName = "YearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthDaysYearWeeks")]
        [Parameter(Mandatory = true, ParameterSetName = "MonthWeeksYearWeeks")]
        public long RetentionYears { get; set; }

        private bool Bound(string name)
        {
            return MyInvocation.BoundParameters.ContainsKey(name);
        }

        protected override void Execute()
        {
            RetentionInfo info;
            try
            {
                info = Build();
            }
            catch (Protection.Refusal ex)
            {
                ThrowError(ex.Message, ex.ErrorId, ErrorCategory.InvalidArgument, null);
                return;
            }
            Native.RetentionValidate(info, null);
            WriteObject(Protection.FromInfo(info, Guid.NewGuid().ToString(), PolicyObjectState.New));
        }

        private RetentionInfo Build()
        {
            var info = new RetentionInfo();
            if (Bound("RetentionDays"))
            {
                // 0 means "no daily rule" to the engine; typed, it is out of range like any other.
                if (RetentionDays == 0)
                    throw new Protection.Refusal("RetentionDays must be from 7 to 9999; 0 was given", "InvalidInput");
                info.Days = RetentionDays;
            }
            if (RetentionWeeklyPolicy.IsPresent)
            {
                if (!Bound("RetentionWeeks"))
                    throw new Protection.Refusal(
                        "-RetentionWeeklyPolicy needs -RetentionWeeks (4 to 5163), -WeekDaysOfWeek and -WeekTimesOfDay",
                        "RetentionRuleIncomplete");
                info.Weekly = new RetentionRuleInfo
                {
                    Count = RetentionWeeks,
                    DaysOfWeek = Protection.DayMask(WeekDaysOfWeek),
                    Times = Protection.Minutes(WeekTimesOfDay, "WeekTimesOfDay"),
                };
                if (info.Weekly.Count == 0)
                    throw new Protection.Refusal("RetentionWeeks must be from 4 to 5163; 0 was given", "InvalidInput");
            }
            else
            {
                foreach (string name in new[] { "WeekDaysOfWeek", "WeekTimesOfDay", "RetentionWeeks" })
                {
                    if (Bound(name))
                        throw new Protection.Refusal(string.Format(CultureInfo.InvariantCulture,
                            "-{0} belongs to the weekly rule: add -RetentionWeeklyPolicy", name), "RetentionRuleSwitchMissing");
                }
            }
            if (RetentionMonthlyPolicy.IsPresent)
            {
                info.Monthly = new RetentionRuleInfo
                {
                    Count = RetentionMonths,
                    DaysOfMonth = Protection.MonthDayMask(MonthDaysOfMonth, "MonthDaysOfMonth"),
                    // No -MonthWeeksOfMonth with -MonthDaysOfWeek: the first week (docs/RETENTION.md).
                    WeeksOfMonth = Bound("MonthDaysOfWeek") && !Bound("MonthWeeksOfMonth")
                        ? Protection.WeekMask(new[] { OBWeekOfMonth.First })
                        : Protection.WeekMask(MonthWeeksOfMonth),
                    DaysOfWeek = Protection.DayMask(MonthDaysOfWeek),
                    Times = Protection.Minutes(MonthTimesOfDay, "MonthTimesOfDay"),
                };
                if (info.Monthly.Count == 0)
                    throw new Protection.Refusal("RetentionMonths must be from 3 to 1188; 0 was given", "InvalidInput");
            }
            if (RetentionYearlyPolicy.IsPresent)
            {
                info.Yearly = new RetentionRuleInfo
                {
                    Count = RetentionYears,
                    // No -YearMonthsOfYear: January; no -YearWeeksOfMonth with -YearDaysOfWeek:
                    // the first week (docs/RETENTION.md).
                    MonthsOfYear = Bound("YearMonthsOfYear")
                        ? Protection.MonthMask(YearMonthsOfYear)
                        : Protection.MonthMask(new[] { OBMonthOfYear.January }),
                    DaysOfMonth = Protection.MonthDayMask(YearDaysOfMonth, "YearDaysOfMonth"),
                    WeeksOfMonth = Bound("YearDaysOfWeek") && !Bound("YearWeeksOfMonth")
                        ? Protection.WeekMask(new[] { OBWeekOfMonth.First })
                        : Protection.WeekMask(YearWeeksOfMonth),
                    DaysOfWeek = Protection.DayMask(YearDaysOfWeek),
                    Times = Protection.Minutes(YearTimesOfDay, "YearTimesOfDay"),
                };
                if (info.Yearly.Count == 0)
                    throw new Protection.Refusal("RetentionYears must be from 1 to 99; 0 was given", "InvalidInput");
            }
            return info;
        }
    }
}
