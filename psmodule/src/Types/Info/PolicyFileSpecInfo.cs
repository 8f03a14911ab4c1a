using System;

namespace OBAgent
{
    /// <summary>One file spec of a committed policy, copied out of native memory.</summary>
    internal sealed class PolicyFileSpecInfo
    {
        internal string Spec;
        internal bool IsExclude;
        internal bool IsRecursive;
    }
}
