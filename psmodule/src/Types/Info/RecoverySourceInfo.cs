using System;

namespace OBAgent
{
    /// <summary>What ob_recovery_source holds, copied out of native memory.</summary>
    internal sealed class RecoverySourceInfo
    {
        internal string ServerName;
        internal long DatasourceId;
        internal string Name;
        internal string Kind;
    }
}
