using System;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
        // schedule.h

        /// <summary>Validate a schedule (ob_schedule_validate); returns it normalised (times sorted).</summary>
        internal static ScheduleInfo ScheduleValidate(ScheduleInfo schedule)
        {
            using (var s = StructBuffer<ObScheduleNative>.Of(ToNative(schedule)))
            {
                Check(NativeMethods.ob_schedule_validate(s.Pointer));
                return FromNative(s.Read());
            }
        }

        /// <summary>Validate a retention policy (ob_retention_validate), against a schedule when one is given.</summary>
        internal static void RetentionValidate(RetentionInfo retention, ScheduleInfo schedule)
        {
            using (var r = StructBuffer<ObRetentionNative>.Of(ToNative(retention)))
            using (StructBuffer<ObScheduleNative> s = ScheduleBuffer(schedule))
            {
                Check(NativeMethods.ob_retention_validate(r.Pointer, s.Pointer));
            }
        }

        private const uint ScheduleVersion = 1, RetentionVersion = 1;

        /// <summary>An unmanaged ob_schedule for one call; none (NULL) for a null schedule.</summary>
        private static StructBuffer<ObScheduleNative> ScheduleBuffer(ScheduleInfo schedule)
        {
            return StructBuffer<ObScheduleNative>.Of(schedule == null ? (ObScheduleNative?)null : ToNative(schedule));
        }

        /// <summary>An unmanaged ob_retention for one call; none (NULL) for a null retention.</summary>
        private static StructBuffer<ObRetentionNative> RetentionBuffer(RetentionInfo retention)
        {
            return StructBuffer<ObRetentionNative>.Of(retention == null ? (ObRetentionNative?)null : ToNative(retention));
        }

        /// <summary>The struct's fixed times array and its count (which may exceed the array).</summary>
        private static int[] FixedTimes(int[] times, out UIntPtr count)
        {
            var slots = new int[ObScheduleNative.MaxTimes];
            int n = times == null ? 0 : times.Length;
            Array.Copy(times ?? new int[0], slots, Math.Min(n, slots.Length));
            count = new UIntPtr((uint)n);
            return slots;
        }

        private static int[] TimesOf(int[] slots, UIntPtr count)
        {
            int n = (int)Math.Min(count.ToUInt64(), (ulong)ObScheduleNative.MaxTimes);
            var times = new int[n];
            Array.Copy(slots, times, n);
            return times;
        }

        private static ObScheduleNative ToNative(ScheduleInfo s)
        {
            var raw = new ObScheduleNative
            {
                version = ScheduleVersion,
                days = s.Days,
                weekly_frequency = s.WeeklyFrequency,
                anchor_date = s.AnchorDate,
                system_state = s.SystemState ? 1 : 0,
            };
            raw.times = FixedTimes(s.Times, out raw.time_count);
            return raw;
        }

        private static ScheduleInfo FromNative(ObScheduleNative raw)
        {
            return new ScheduleInfo
            {
                Days = raw.days,
                Times = TimesOf(raw.times, raw.time_count),
                WeeklyFrequency = raw.weekly_frequency,
                AnchorDate = raw.anchor_date,
                SystemState = raw.system_state != 0,
            };
        }

        private static ObRetentionRuleNative ToNative(RetentionRuleInfo r)
        {
            if (r == null)
                return new ObRetentionRuleNative { times = new int[ObScheduleNative.MaxTimes] };
            var raw = new ObRetentionRuleNative
            {
                count = r.Count,
                days_of_week = r.DaysOfWeek,
                weeks_of_month = r.WeeksOfMonth,
                days_of_month = r.DaysOfMonth,
                months_of_year = r.MonthsOfYear,
            };
            raw.times = FixedTimes(r.Times, out raw.time_count);
            return raw;
        }

        private static RetentionRuleInfo FromNative(ObRetentionRuleNative raw)
        {
            if (raw.count == 0)
                return null;
            return new RetentionRuleInfo
            {
                Count = raw.count,
                DaysOfWeek = raw.days_of_week,
                WeeksOfMonth = raw.weeks_of_month,
                DaysOfMonth = raw.days_of_month,
                MonthsOfYear = raw.months_of_year,
                Times = TimesOf(raw.times, raw.time_count),
            };
        }

        private static ObRetentionNative ToNative(RetentionInfo r)
        {
            return new ObRetentionNative
            {
                version = RetentionVersion,
                days = r.Days,
                weekly = ToNative(r.Weekly),
                monthly = ToNative(r.Monthly),
                yearly = ToNative(r.Yearly),
            };
        }

        private static RetentionInfo FromNative(ObRetentionNative raw)
        {
            return new RetentionInfo
            {
                Days = raw.days,
                Weekly = FromNative(raw.weekly),
                Monthly = FromNative(raw.monthly),
                Yearly = FromNative(raw.yearly),
            };
        }
    }
}
