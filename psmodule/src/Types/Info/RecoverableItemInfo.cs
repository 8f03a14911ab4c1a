using System;

namespace OBAgent
{
    /// <summary>What ob_recoverable_item holds, copied out of native memory.</summary>
    internal sealed class RecoverableItemInfo
    {
        internal string Path;
        internal string Name;
        internal bool IsDir;
        internal ulong Size;
        internal long MTime;
    }
}
