using System;

namespace OBAgent
{
    /// <summary>
    /// An ob_schedule in managed form. Times are minutes after midnight and may be more than the
    /// three the struct holds: the count then goes over as it is, so that ob_schedule_validate
    /// refuses it with its own message.
    /// </summary>
    internal sealed class ScheduleInfo
    {
        internal uint Days;
        internal int[] Times;
        internal int WeeklyFrequency;
        internal long AnchorDate;
        internal bool SystemState;
    }
}
