using System;

namespace OBAgent
{
    /// <summary>An ob_retention_rule in managed form; Count 0 is a rule that is off.</summary>
    internal sealed class RetentionRuleInfo
    {
        internal long Count;
        internal uint DaysOfWeek;
        internal uint WeeksOfMonth;
        internal uint DaysOfMonth;
        internal uint MonthsOfYear;
        internal int[] Times;
    }
}
