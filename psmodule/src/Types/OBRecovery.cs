using System;

namespace OBAgent
{
    /// <summary>A server registered to the same vault, as Get-OBAlternateBackupServer returns it (MSOnlineBackup OBBackupServer).</summary>
    public sealed class OBBackupServer
    {
        public string ServerName { get; internal set; }

        public string ServerId { get; internal set; }

        /// <summary>When the server first registered to the vault, local time.</summary>
        public DateTime RegisteredTime { get; internal set; }

        /// <summary>True for the server this agent runs as.</summary>
        internal bool IsThisServer { get; set; }

        public override string ToString()
        {
            return ServerName;
        }
    }

    /// <summary>A backed-up data source of a server (MSOnlineBackup OBRecoverableSource).</summary>
    public sealed class OBRecoverableSource
    {
        /// <summary>The data source's name, its mount point (e.g. "/").</summary>
        public string FriendlyName { get; internal set; }

        /// <summary>The same name (MSOnlineBackup shows the volume here).</summary>
        public string RecoverySourceName { get; internal set; }

        /// <summary>The server whose backups these are.</summary>
        public string ServerName { get; internal set; }

        public long DatasourceId { get; internal set; }

        /// <summary>The data source's id (the same Int64 as DatasourceId, a policy's DsList[].DatasourceId and a job's DataSourceId).</summary>
        public long RecoverySourceID
        {
            get { return DatasourceId; }
        }

        /// <summary>The kind of the backups ("FileFolder").</summary>
        public string Kind { get; internal set; }

        /// <summary>The server to open for this source: null for this server, else its name.</summary>
        internal string OtherServer { get; set; }

        public override string ToString()
        {
            return FriendlyName;
        }
    }

    /// <summary>
    /// A recovery point, or a file or folder inside one (MSOnlineBackup OBRecoverableItem).
    /// Get-OBRecoverableItem -Source returns the points (IsDir $true, the whole data source);
    /// -ParentItem and -RecoveryPoint return what is inside them; New-OBRecoverableItem names an
    /// item without browsing. Start-OBRecovery restores them.
    /// </summary>
    public sealed class OBRecoverableItem
    {
        /// <summary>True for a folder, and for a recovery point itself.</summary>
        public bool IsDir { get; internal set; }

        /// <summary>The full path as it was on the server, e.g. "/srv/data/file.txt"; for a point, the data source.</summary>
        public string ItemNameFriendly { get; internal set; }

        /// <summary>An opaque, stable id of this item in this recovery point.</summary>
        public string ItemNameGuid { get; internal set; }

        /// <summary>The data source (mount point) the item is in.</summary>
        public string LocalMountPoint { get; internal set; }

        /// <summary>The data source (mount point) the item is in.</summary>
        public string MountPointName { get; internal set; }

        /// <summary>The last component of the path; for a point, the data source.</summary>
        public string Name { get; internal set; }

        /// <summary>When the recovery point was taken, local time.</summary>
        public DateTime PointInTime { get; internal set; }

        public string ServerName { get; internal set; }

        /// <summary>Bytes of a file (for a point: of all its files; 0 for folders and for items named by New-OBRecoverableItem).</summary>
        public ulong ItemSize { get; internal set; }

        /// <summary>Local time; null when not known (New-OBRecoverableItem).</summary>
        public DateTime? ItemLastModifiedTime { get; internal set; }

        /// <summary>The data source's id (Int64, comparable with -eq with OBRecoverableSource.RecoverySourceID and a policy's DatasourceId).</summary>
        public long RecoverySourceID { get; internal set; }

        /// <summary>When the recovery point was taken, local time.</summary>
        public DateTime RecoveryPointLocalTime { get; internal set; }

        public long DatasourceId { get; internal set; }

        /// <summary>The recovery point's id in the vault.</summary>
        public string RecoveryPointId { get; internal set; }

        /// <summary>True when this item is a recovery point (the whole data source).</summary>
        public bool IsRecoveryPoint { get; internal set; }

        /// <summary>
        /// obagent: for a recovery point, "Available" or "Damaged" (its record cannot be read: nothing can be
        /// restored from it; Test-OBRecoveryPoint reports it); null for a file or folder.
        /// </summary>
        public string State { get; internal set; }

        /// <summary>The path relative to the data source's root, '/'-separated ("" for a point).</summary>
        internal string RelativePath { get; set; }

        /// <summary>The server to open for this item: null for this server, else its name.</summary>
        internal string OtherServer { get; set; }

        /// <summary>False for an object that did not come from this module in this session (e.g. deserialized).</summary>
        internal bool Usable
        {
            get { return RecoveryPointId != null && RelativePath != null; }
        }

        public override string ToString()
        {
            return IsRecoveryPoint ? string.Format("{0} {1:yyyy-MM-dd HH:mm:ss}", ItemNameFriendly, PointInTime) : ItemNameFriendly;
        }
    }

    /// <summary>What Start-OBRecovery does when a restored item exists at the destination (MSOnlineBackup -OverwriteType).</summary>
    public enum OBOverwriteType
    {
        /// <summary>Restore beside it as "yyyy-MM-dd HH-mm Copy of name".</summary>
        CreateCopy = 0,

        /// <summary>Leave the existing item alone.</summary>
        Skip = 1,

        /// <summary>Replace the existing item.</summary>
        Overwrite = 2,
    }

    /// <summary>Where and how Start-OBRecovery restores (MSOnlineBackup OBRecoveryOption).</summary>
    public sealed class OBRecoveryOption
    {
        /// <summary>The folder to restore into (absolute), or null for the original location.</summary>
        public string DestinationPath { get; internal set; }

        public OBOverwriteType OverwriteType { get; internal set; }

        /// <summary>Restore owner, group, permissions beyond the mode, ACLs and extended attributes.</summary>
        public bool RestoreSecurity { get; internal set; }

        public override string ToString()
        {
            return string.Format("{0}, {1}{2}", DestinationPath ?? "original location", OverwriteType,
                RestoreSecurity ? "" : ", SkipRestoreSecurity");
        }
    }

    /// <summary>
    /// Paging state for Get-OBRecoverableItem (MSOnlineBackup OBPagingContext): each call with the
    /// same context returns the next PageSize items, then nothing once all were returned.
    /// </summary>
    public sealed class OBPagingContext
    {
        private int pageSize = 100;

        /// <summary>Items per page (1 or more; 100 unless set).</summary>
        public int PageSize
        {
            get { return pageSize; }
            set
            {
                if (value < 1)
                    throw new ArgumentOutOfRangeException("value", "PageSize must be 1 or more.");
                pageSize = value;
            }
        }

        /// <summary>How many items the context has returned so far.</summary>
        public long ItemsReturned { get; internal set; }

        /// <summary>True once the last page has been returned.</summary>
        public bool IsComplete { get; internal set; }

        /// <summary>The query the context pages through; a different query starts over.</summary>
        internal string Query { get; set; }

        public override string ToString()
        {
            return string.Format("{0} item(s) returned{1}", ItemsReturned, IsComplete ? ", complete" : "");
        }
    }

    /// <summary>One damaged file or folder that Test-OBRecoveryPoint found.</summary>
    public sealed class OBRecoveryDamage
    {
        public string Path { get; internal set; }

        public string Problem { get; internal set; }

        public override string ToString()
        {
            return Path + ": " + Problem;
        }
    }

    /// <summary>What Test-OBRecoveryPoint found when it read back a recovery point.</summary>
    public sealed class OBRecoveryPointTest
    {
        /// <summary>When the recovery point was taken, local time.</summary>
        public DateTime RecoveryPointTime { get; internal set; }

        public string ServerName { get; internal set; }

        public string RecoveryPointId { get; internal set; }

        /// <summary>Vault objects (trees, chunks) read and authenticated.</summary>
        public ulong ObjectsChecked { get; internal set; }

        /// <summary>True when everything the point needs was read back intact.</summary>
        public bool Healthy { get; internal set; }

        public OBRecoveryDamage[] Damaged { get; internal set; }

        public override string ToString()
        {
            return Healthy ? "Healthy" : string.Format("{0} damaged item(s)", Damaged == null ? 0 : Damaged.Length);
        }
    }
}
