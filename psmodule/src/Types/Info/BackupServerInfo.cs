using System;

namespace OBAgent
{
    /// <summary>What ob_backup_server holds, copied out of native memory.</summary>
    internal sealed class BackupServerInfo
    {
        internal string ServerName;
        internal string ServerId;
        internal long RegisteredAt;
        internal bool IsThisServer;
    }
}
