using System;

namespace OBAgent
{
    /// <summary>What ob_recovery_point holds, copied out of native memory.</summary>
    internal sealed class RecoveryPointInfo
    {
        internal string Id;
        internal long BackupTime;
        internal string ServerName;
        internal string Kind;
        internal string[] Datasources;
        internal long[] DatasourceIds;
        internal ulong Files;
        internal ulong Bytes;
        internal long RetainUntil;
        internal string JobId;
        internal long DeletedAt;
        internal long PurgeAfter;
        /// <summary>The point's record cannot be read (damaged or forged): only Id, BackupTime and ServerName are known.</summary>
        internal bool Damaged;
        internal string Problem;
        /// <summary>Listed without the server's key and without a summary: only Id, BackupTime and ServerName are known.</summary>
        internal bool Sealed;
    }
}
