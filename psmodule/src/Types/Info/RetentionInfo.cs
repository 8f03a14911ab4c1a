using System;

namespace OBAgent
{
    /// <summary>An ob_retention in managed form; a null rule is a rule that is off.</summary>
    internal sealed class RetentionInfo
    {
        internal long Days;
        internal RetentionRuleInfo Weekly;
        internal RetentionRuleInfo Monthly;
        internal RetentionRuleInfo Yearly;
    }
}
