using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace OBAgent.Mapping
{
    /// <summary>
    /// What the schedule and retention cmdlets share: OBSchedule and OBRetentionPolicy to and from
    /// the engine's ob_schedule and ob_retention (ScheduleInfo, RetentionInfo). Reading them from a
    /// committed policy is PolicyMapping's.
    ///
    /// Refusals made in managed code, with their stable ErrorIds (ErrorCategory InvalidArgument):
    ///   TimeOfDayNotWholeMinute    a TimesOfDay value with seconds
    ///   MonthDayNotValid           a MonthDaysOfMonth / YearDaysOfMonth value that is no day number or Last
    ///   RetentionRuleSwitchMissing a rule parameter without its -Retention*Policy switch
    /// </summary>
    internal static class Protection
    {
        internal const uint LastDayOfMonth = 0x80000000u;

        /// <summary>A refusal made in managed code; the cmdlet turns it into an InvalidArgument ErrorRecord.</summary>
        internal sealed class Refusal : ArgumentException
        {
            internal Refusal(string message, string errorId)
                : base(message)
            {
                ErrorId = errorId;
            }

            internal string ErrorId { get; private set; }
        }

        internal static uint DayMask(IEnumerable<DayOfWeek> days)
        {
            uint mask = 0;
            foreach (DayOfWeek d in days ?? new DayOfWeek[0])
                mask |= 1u << (int)d;
            return mask;
        }

        internal static DayOfWeek[] DaysOf(uint mask)
        {
            var list = new List<DayOfWeek>();
            for (int i = 0; i < 7; i++)
            {
                if ((mask & (1u << i)) != 0)
                    list.Add((DayOfWeek)i);
            }
            return list.ToArray();
        }

        internal static uint WeekMask(IEnumerable<OBWeekOfMonth> weeks)
        {
            uint mask = 0;
            foreach (OBWeekOfMonth w in weeks ?? new OBWeekOfMonth[0])
                mask |= 1u << (int)w;
            return mask;
        }

        internal static OBWeekOfMonth[] WeeksOf(uint mask)
        {
            var list = new List<OBWeekOfMonth>();
            for (int i = 0; i < 5; i++)
            {
                if ((mask & (1u << i)) != 0)
                    list.Add((OBWeekOfMonth)i);
            }
            return list.ToArray();
        }

        internal static uint MonthMask(IEnumerable<OBMonthOfYear> months)
        {
            uint mask = 0;
            foreach (OBMonthOfYear m in months ?? new OBMonthOfYear[0])
                mask |= 1u << ((int)m - 1);
            return mask;
        }

        internal static OBMonthOfYear[] MonthsOf(uint mask)
        {
            var list = new List<OBMonthOfYear>();
            for (int i = 0; i < 12; i++)
            {
                if ((mask & (1u << i)) != 0)
                    list.Add((OBMonthOfYear)(i + 1));
            }
            return list.ToArray();
        }

        /// <summary>
        /// Days of a month as typed ("1".."31", "Last"). Days 29 to 31 go to the engine as the bits
        /// it refuses, so that its message names the allowed days; anything else is refused here with
        /// the same words.
        /// </summary>
        internal static uint MonthDayMask(IEnumerable<string> days, string parameter)
        {
            uint mask = 0;
            foreach (string raw in days ?? new string[0])
            {
                string d = (raw ?? string.Empty).Trim();
                int n;
                if (string.Equals(d, "Last", StringComparison.OrdinalIgnoreCase))
                    mask |= LastDayOfMonth;
                else if (int.TryParse(d, NumberStyles.Integer, CultureInfo.InvariantCulture, out n) && n >= 1 && n <= 31)
                    mask |= 1u << (n - 1);
                else
                    throw new Refusal(string.Format(CultureInfo.InvariantCulture,
                        "{0} must be days 1 to 28 or Last; '{1}' was given", parameter, raw), "MonthDayNotValid");
            }
            return mask;
        }

        internal static string[] MonthDaysOf(uint mask)
        {
            var list = new List<string>();
            for (int d = 1; d <= 31; d++)
            {
                if ((mask & (1u << (d - 1))) != 0)
                    list.Add(d.ToString(CultureInfo.InvariantCulture));
            }
            if ((mask & LastDayOfMonth) != 0)
                list.Add("Last");
            return list.ToArray();
        }

        /// <summary>Times of day as minutes after midnight; a time with seconds is refused (the engine counts minutes).</summary>
        internal static int[] Minutes(IEnumerable<TimeSpan> times, string parameter)
        {
            var list = new List<int>();
            foreach (TimeSpan t in times ?? new TimeSpan[0])
            {
                if (t.Ticks % TimeSpan.TicksPerMinute != 0)
                    throw new Refusal(string.Format(CultureInfo.InvariantCulture,
                        "{0}: a time of day is whole minutes from 00:00 to 23:59; {1} was given", parameter, t), "TimeOfDayNotWholeMinute");
                list.Add((int)Math.Floor(t.TotalMinutes));
            }
            return list.ToArray();
        }

        internal static TimeSpan[] TimesOf(int[] minutes)
        {
            return minutes.Select(m => TimeSpan.FromMinutes(m)).ToArray();
        }

        internal static ScheduleInfo ToInfo(OBSchedule s)
        {
            if (s == null)
                return null;
            return new ScheduleInfo
            {
                Days = DayMask(s.ScheduleRunDays),
                Times = s.Minutes,
                WeeklyFrequency = s.ScheduleWeeklyFrequency,
                AnchorDate = s.AnchorDate,
            };
        }

        internal static OBSchedule FromInfo(ScheduleInfo s, string name, PolicyObjectState state)
        {
            return new OBSchedule(name, state, DaysOf(s.Days), s.Times, s.WeeklyFrequency, s.AnchorDate);
        }

        private static RetentionRuleInfo ToInfo(OBLTRSchedule r)
        {
            if (r == null)
                return null;
            return new RetentionRuleInfo
            {
                Count = r.RetentionCount,
                DaysOfWeek = DayMask(r.DaysOfWeek),
                WeeksOfMonth = WeekMask(r.WeeksOfMonth),
                DaysOfMonth = MonthDayMask(r.DaysOfMonth, "DaysOfMonth"),
                MonthsOfYear = MonthMask(r.MonthsOfYear),
                Times = Minutes(r.TimesOfDay, "TimesOfDay"),
            };
        }

        internal static OBLTRSchedule FromInfo(RetentionRuleInfo r, string frequency)
        {
            if (r == null)
                return null;
            return new OBLTRSchedule
            {
                Frequency = frequency,
                RetentionCount = r.Count,
                DaysOfWeek = DaysOf(r.DaysOfWeek),
                WeeksOfMonth = WeeksOf(r.WeeksOfMonth),
                DaysOfMonth = MonthDaysOf(r.DaysOfMonth),
                MonthsOfYear = MonthsOf(r.MonthsOfYear),
                TimesOfDay = TimesOf(r.Times),
            };
        }

        internal static RetentionInfo ToInfo(OBRetentionPolicy r)
        {
            if (r == null)
                return null;
            return new RetentionInfo
            {
                Days = r.RetentionDays ?? 0,
                Weekly = ToInfo(r.WeeklyLTRSchedule),
                Monthly = ToInfo(r.MonthlyLTRSchedule),
                Yearly = ToInfo(r.YearlyLTRSchedule),
            };
        }

        internal static OBRetentionPolicy FromInfo(RetentionInfo r, string name, PolicyObjectState state)
        {
            return new OBRetentionPolicy(name, state)
            {
                RetentionDays = r.Days == 0 ? (long?)null : r.Days,
                WeeklyLTRSchedule = FromInfo(r.Weekly, "Weekly"),
                MonthlyLTRSchedule = FromInfo(r.Monthly, "Monthly"),
                YearlyLTRSchedule = FromInfo(r.Yearly, "Yearly"),
            };
        }
    }
}
