using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace OBAgent
{
    /// <summary>Weeks of a month for monthly and yearly retention (days 1-7, 8-14, 15-21, 22-28, the last 7 days).</summary>
    public enum OBWeekOfMonth
    {
        First = 0,
        Second = 1,
        Third = 2,
        Fourth = 3,
        Last = 4,
    }

    /// <summary>Months of the year for yearly retention.</summary>
    public enum OBMonthOfYear
    {
        January = 1,
        February = 2,
        March = 3,
        April = 4,
        May = 5,
        June = 6,
        July = 7,
        August = 8,
        September = 9,
        October = 10,
        November = 11,
        December = 12,
    }

    /// <summary>
    /// When backups run (MSOnlineBackup OBSchedule): on ScheduleRunDays at ScheduleRunTimes, every
    /// ScheduleWeeklyFrequency weeks. New-OBSchedule makes one (State New); Get-OBPolicy | Get-OBSchedule
    /// reads the committed one (State Existing). ScheduleRunTimes are today's date at the scheduled
    /// times of day, as MSOnlineBackup shows them; only the time of day counts.
    /// </summary>
    public sealed class OBSchedule
    {
        internal OBSchedule(string name, PolicyObjectState state, IEnumerable<DayOfWeek> days, IEnumerable<int> minutes, int weeklyFrequency, long anchorDate)
        {
            SchedulePolicyName = name;
            State = state;
            ScheduleRunDays = days.Distinct().OrderBy(d => d).ToArray();
            Minutes = minutes.ToArray();
            ScheduleWeeklyFrequency = weeklyFrequency;
            AnchorDate = anchorDate;
        }

        public string SchedulePolicyName { get; private set; }

        public DayOfWeek[] ScheduleRunDays { get; private set; }

        /// <summary>Today at each scheduled time of day.</summary>
        public DateTime[] ScheduleRunTimes
        {
            get
            {
                DateTime today = DateTime.Today;
                return Minutes.Select(m => today.AddMinutes(m)).ToArray();
            }
        }

        public int ScheduleWeeklyFrequency { get; private set; }

        public PolicyObjectState State { get; internal set; }

        /// <summary>
        /// An id of the committed schedule: a positive Int64 derived from the policy it belongs to (the
        /// first 8 bytes of SHA-256 over "obagent-schedule:" and the policy's name), the same on every read
        /// and across changes of the schedule; 0 for a schedule not committed (State New). MARS does not
        /// document its type or meaning (docs/MARS-TYPES.md).
        /// </summary>
        public long ScheduleId
        {
            get
            {
                if (State != PolicyObjectState.Existing || string.IsNullOrEmpty(SchedulePolicyName))
                    return 0;
                byte[] hash;
                using (var sha = System.Security.Cryptography.SHA256.Create())
                    hash = sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes("obagent-schedule:" + SchedulePolicyName));
                long id = BitConverter.ToInt64(hash, 0) & long.MaxValue;
                return id == 0 ? 1 : id;
            }
        }

        /// <summary>Minutes after midnight, sorted.</summary>
        internal int[] Minutes { get; private set; }

        /// <summary>The engine's anchor date (days since 1970-01-01; 0 until committed: the commit date).</summary>
        internal long AnchorDate { get; private set; }

        /// <summary>The times of day as text, e.g. "16:00, 21:30".</summary>
        public string ScheduleRunTimesToString()
        {
            return string.Join(", ", Minutes.Select(TimeText));
        }

        /// <summary>The days as text, e.g. "Sunday, Saturday" (MSOnlineBackup's method of that name).</summary>
        public string ScheduleRunDaysToString()
        {
            return string.Join(", ", ScheduleRunDays);
        }

        internal static string TimeText(int minutes)
        {
            return string.Format(CultureInfo.InvariantCulture, "{0:00}:{1:00}", minutes / 60, minutes % 60);
        }

        public override string ToString()
        {
            return string.Format(CultureInfo.InvariantCulture, "{0} {1}, Every {2} week(s)",
                ScheduleRunTimesToString(), string.Join(", ", ScheduleRunDays), ScheduleWeeklyFrequency);
        }
    }

    /// <summary>
    /// A long-term retention rule of an OBRetentionPolicy (WeeklyLTRSchedule, MonthlyLTRSchedule,
    /// YearlyLTRSchedule): the slots it names and how long their points are kept. RetentionRange is
    /// that time in days, as MSOnlineBackup gives it: weeks x 7, months x 31, years x 366.
    /// </summary>
    public sealed class OBLTRSchedule
    {
        internal OBLTRSchedule()
        {
            MonthsOfYear = new OBMonthOfYear[0];
            DaysOfMonth = new string[0];
            WeeksOfMonth = new OBWeekOfMonth[0];
            DaysOfWeek = new DayOfWeek[0];
            TimesOfDay = new TimeSpan[0];
        }

        /// <summary>Weekly, Monthly or Yearly.</summary>
        public string Frequency { get; internal set; }

        /// <summary>Yearly rules: the months.</summary>
        public OBMonthOfYear[] MonthsOfYear { get; internal set; }

        /// <summary>Monthly and yearly rules, day form: "1" to "28" and "Last".</summary>
        public string[] DaysOfMonth { get; internal set; }

        /// <summary>Monthly and yearly rules, week form: the weeks of the month (with DaysOfWeek).</summary>
        public OBWeekOfMonth[] WeeksOfMonth { get; internal set; }

        public DayOfWeek[] DaysOfWeek { get; internal set; }

        public TimeSpan[] TimesOfDay { get; internal set; }

        /// <summary>How many weeks, months or years (after Frequency) each slot's point is kept.</summary>
        public long RetentionCount { get; internal set; }

        /// <summary>The retention in days: RetentionCount x 7, 31 or 366.</summary>
        public long RetentionRange
        {
            get
            {
                long unit = Frequency == "Weekly" ? 7 : Frequency == "Monthly" ? 31 : 366;
                return RetentionCount * unit;
            }
        }

        public override string ToString()
        {
            var parts = new List<string>();
            if (MonthsOfYear.Length > 0)
                parts.Add(string.Join(",", MonthsOfYear));
            if (DaysOfMonth.Length > 0)
                parts.Add("day " + string.Join(",", DaysOfMonth));
            if (WeeksOfMonth.Length > 0)
                parts.Add(string.Join(",", WeeksOfMonth));
            if (DaysOfWeek.Length > 0)
                parts.Add(string.Join(",", DaysOfWeek));
            string unit = Frequency == "Weekly" ? "week(s)" : Frequency == "Monthly" ? "month(s)" : "year(s)";
            return string.Format(CultureInfo.InvariantCulture, "{0} {1} at {2}, kept {3} {4}", Frequency,
                string.Join(" ", parts), string.Join(",", TimesOfDay.Select(t => OBSchedule.TimeText((int)t.TotalMinutes))),
                RetentionCount, unit);
        }
    }

    /// <summary>
    /// Which recovery points are kept (MSOnlineBackup OBRetentionPolicy): RetentionDays for daily
    /// points (null when there is no daily rule) and the long-term rules (null when not set; the
    /// default view then says "Weekly schedule is not set" as MSOnlineBackup does).
    /// </summary>
    public sealed class OBRetentionPolicy
    {
        internal OBRetentionPolicy(string name, PolicyObjectState state)
        {
            RetentionPolicyName = name;
            State = state;
        }

        public long? RetentionDays { get; internal set; }

        public string RetentionPolicyName { get; private set; }

        public PolicyObjectState State { get; internal set; }

        public OBLTRSchedule WeeklyLTRSchedule { get; internal set; }

        public OBLTRSchedule MonthlyLTRSchedule { get; internal set; }

        public OBLTRSchedule YearlyLTRSchedule { get; internal set; }

        public override string ToString()
        {
            var parts = new List<string>();
            if (RetentionDays.HasValue)
                parts.Add(string.Format(CultureInfo.InvariantCulture, "{0} day(s)", RetentionDays.Value));
            foreach (OBLTRSchedule r in new[] { WeeklyLTRSchedule, MonthlyLTRSchedule, YearlyLTRSchedule })
            {
                if (r != null)
                    parts.Add(r.ToString());
            }
            return string.Join("; ", parts);
        }
    }
}
