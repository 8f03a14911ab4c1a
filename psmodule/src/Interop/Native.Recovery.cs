using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
        // recovery.h

        internal static List<RecoveryPointInfo> RecoveryPoints(AgentHandle agent)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_points(out list, out count, agent);
            return TakePoints(rc, list, count);
        }

        /// <summary>This server's recovery points with the soft-deleted ones (DeletedAt set).</summary>
        internal static List<RecoveryPointInfo> RecoveryPointsAll(AgentHandle agent)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_points_all(out list, out count, agent);
            return TakePoints(rc, list, count);
        }

        /// <summary>Soft-delete a recovery point of this server, after the engine checks the security PIN.</summary>
        internal static void RecoveryPointRemove(AgentHandle agent, string pointId, string reason, string securityPin)
        {
            Check(NativeMethods.ob_recovery_point_remove(agent, Utf8.ToNative(pointId), Utf8.ToNative(reason),
                Utf8.ToNative(securityPin)));
        }

        /// <summary>Run vault maintenance; graceSeconds -1 for the engine's default, ownerKey for an Azure vault.</summary>
        internal static MaintenanceReportInfo MaintenanceRun(AgentHandle agent, long graceSeconds, string ownerKey)
        {
            var allocated = new List<IntPtr>();
            IntPtr report = IntPtr.Zero;
            try
            {
                var opts = new ObMaintenanceOptionsNative
                {
                    version = 1,
                    grace_seconds = graceSeconds,
                    repack_percent = 0,
                    owner_key = Unmanaged(ownerKey, allocated),
                };
                int rc = NativeMethods.ob_maintenance_run(out report, agent, ref opts);
                if (rc < 0)
                    throw Failure(rc);
                var raw = (ObMaintenanceReportNative)Marshal.PtrToStructure(report, typeof(ObMaintenanceReportNative));
                return new MaintenanceReportInfo
                {
                    PointsPurged = raw.points_purged,
                    PacksMarked = raw.packs_marked,
                    PacksDeleted = raw.packs_deleted,
                    PacksRepacked = raw.packs_repacked,
                    BytesReclaimed = raw.bytes_reclaimed,
                    BytesInUse = raw.bytes_in_use,
                };
            }
            finally
            {
                if (report != IntPtr.Zero)
                    NativeMethods.ob_str_free(report);
                foreach (IntPtr a in allocated)
                {
                    int n = 0;
                    while (Marshal.ReadByte(a, n) != 0)
                        Marshal.WriteByte(a, n++, 0);
                    Marshal.FreeHGlobal(a);
                }
            }
        }

        /// <summary>Read (then free) an array from ob_recovery_points or ob_recovery_list_points.</summary>
        private static List<RecoveryPointInfo> TakePoints(int rc, IntPtr list, UIntPtr count)
        {
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_recovery_points_free(list, count);
                throw failure;
            }
            try
            {
                var points = new List<RecoveryPointInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    IntPtr p = Marshal.ReadIntPtr(list, (int)i * IntPtr.Size);
                    var raw = (ObRecoveryPointNative)Marshal.PtrToStructure(p, typeof(ObRecoveryPointNative));
                    var ids = new List<long>();
                    foreach (string id in Lines(Utf8.FromNative(raw.datasource_ids)))
                    {
                        long v;
                        if (long.TryParse(id, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out v))
                            ids.Add(v);
                    }
                    points.Add(new RecoveryPointInfo
                    {
                        Id = Utf8.FromNative(raw.id),
                        BackupTime = raw.backup_time,
                        ServerName = Utf8.FromNative(raw.server_name),
                        Kind = Utf8.FromNative(raw.kind),
                        Datasources = Lines(Utf8.FromNative(raw.datasources)),
                        DatasourceIds = ids.ToArray(),
                        Files = raw.files,
                        Bytes = raw.bytes,
                        RetainUntil = raw.retain_until,
                        JobId = Utf8.FromNative(raw.job_id),
                        DeletedAt = raw.deleted_at,
                        PurgeAfter = raw.purge_after,
                        Damaged = raw.version >= 2 && raw.damaged != 0,
                        Problem = raw.version >= 2 ? Utf8.FromNative(raw.problem) : null,
                    });
                }
                return points;
            }
            finally
            {
                NativeMethods.ob_recovery_points_free(list, count);
            }
        }

        internal static ulong MachineUsage(AgentHandle agent)
        {
            ulong bytes;
            Check(NativeMethods.ob_machine_usage(out bytes, agent));
            return bytes;
        }

        /// <summary>Every server registered to this server's vault, this one included (flagged).</summary>
        internal static List<BackupServerInfo> BackupServers(AgentHandle agent)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_backup_servers(out list, out count, agent);
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_backup_servers_free(list, count);
                throw failure;
            }
            try
            {
                var servers = new List<BackupServerInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    IntPtr p = Marshal.ReadIntPtr(list, (int)i * IntPtr.Size);
                    var raw = (ObBackupServerNative)Marshal.PtrToStructure(p, typeof(ObBackupServerNative));
                    servers.Add(new BackupServerInfo
                    {
                        ServerName = Utf8.FromNative(raw.server_name),
                        ServerId = Utf8.FromNative(raw.server_id),
                        RegisteredAt = raw.registered_at,
                        IsThisServer = raw.is_this_server != 0,
                    });
                }
                return servers;
            }
            finally
            {
                NativeMethods.ob_backup_servers_free(list, count);
            }
        }

        /// <summary>The data sources with recovery points of a server (null: this server).</summary>
        internal static List<RecoverySourceInfo> RecoverySources(AgentHandle agent, string serverName)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_sources(out list, out count, agent, Utf8.ToNative(serverName));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_recovery_sources_free(list, count);
                throw failure;
            }
            try
            {
                var sources = new List<RecoverySourceInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    IntPtr p = Marshal.ReadIntPtr(list, (int)i * IntPtr.Size);
                    var raw = (ObRecoverySourceNative)Marshal.PtrToStructure(p, typeof(ObRecoverySourceNative));
                    sources.Add(new RecoverySourceInfo
                    {
                        ServerName = Utf8.FromNative(raw.server_name),
                        DatasourceId = raw.datasource_id,
                        Name = Utf8.FromNative(raw.name),
                        Kind = Utf8.FromNative(raw.kind),
                    });
                }
                return sources;
            }
            finally
            {
                NativeMethods.ob_recovery_sources_free(list, count);
            }
        }

        /// <summary>
        /// A recovery session: this server's (serverName null, passphrase null) or another's, opened
        /// with its passphrase (may be null, then the library says what is missing).
        /// </summary>
        internal static RecoveryHandle RecoveryOpen(AgentHandle agent, string serverName, SecretBytes passphrase)
        {
            RecoveryHandle recovery;
            int rc = NativeMethods.ob_recovery_open(out recovery, agent, Utf8.ToNative(serverName),
                passphrase == null ? IntPtr.Zero : passphrase.Pointer,
                new UIntPtr(passphrase == null ? 0u : (uint)passphrase.Length));
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                recovery.Dispose();
                throw failure;
            }
            return recovery;
        }

        internal static List<RecoveryPointInfo> RecoveryListPoints(RecoveryHandle recovery)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_list_points(out list, out count, recovery);
            return TakePoints(rc, list, count);
        }

        /// <summary>Read (then free) an array from ob_recovery_browse or ob_recovery_search.</summary>
        private static List<RecoverableItemInfo> TakeItems(int rc, IntPtr list, UIntPtr count)
        {
            if (rc < 0)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_recoverable_items_free(list, count);
                throw failure;
            }
            try
            {
                var items = new List<RecoverableItemInfo>();
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    IntPtr p = Marshal.ReadIntPtr(list, (int)i * IntPtr.Size);
                    var raw = (ObRecoverableItemNative)Marshal.PtrToStructure(p, typeof(ObRecoverableItemNative));
                    items.Add(new RecoverableItemInfo
                    {
                        Path = Utf8.FromNative(raw.path),
                        Name = Utf8.FromNative(raw.name),
                        IsDir = raw.is_dir != 0,
                        Size = raw.size,
                        MTime = raw.mtime,
                    });
                }
                return items;
            }
            finally
            {
                NativeMethods.ob_recoverable_items_free(list, count);
            }
        }

        /// <summary>The items of one folder of a point ("" is the data source's root), sorted by name.</summary>
        internal static List<RecoverableItemInfo> RecoveryBrowse(RecoveryHandle recovery, string pointId, long datasourceId, string folder)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_browse(out list, out count, recovery, Utf8.ToNative(pointId), datasourceId,
                Utf8.ToNative(folder ?? ""));
            return TakeItems(rc, list, count);
        }

        /// <summary>Items below location whose names match pattern, depth first, at most max (0: all).</summary>
        internal static List<RecoverableItemInfo> RecoverySearch(RecoveryHandle recovery, string pointId, long datasourceId,
            string location, string pattern, ulong max)
        {
            IntPtr list;
            UIntPtr count;
            int rc = NativeMethods.ob_recovery_search(out list, out count, recovery, Utf8.ToNative(pointId), datasourceId,
                Utf8.ToNative(location ?? ""), Utf8.ToNative(pattern), new UIntPtr(max));
            return TakeItems(rc, list, count);
        }

        /// <summary>
        /// Read and authenticate everything a point needs. Returns the damage found (path, problem),
        /// empty when healthy; OB_ECORRUPT is a result here, not a failure.
        /// </summary>
        internal static List<OBFailedFile> RecoveryTest(RecoveryHandle recovery, string pointId, out ulong objects)
        {
            IntPtr report;
            int rc = NativeMethods.ob_recovery_test(out report, out objects, recovery, Utf8.ToNative(pointId));
            if (rc < 0 && rc != Corrupt)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(report);
                throw failure;
            }
            List<OBFailedFile> damage = ParseFailures(Utf8.TakeOwned(report));
            if (rc == Corrupt && damage.Count == 0)
                damage.Add(new OBFailedFile { Path = "", Reason = Utf8.FromNative(NativeMethods.ob_error_last()) });
            if (rc == Corrupt)
                NativeMethods.ob_error_clear();
            return damage;
        }

        /// <summary>Start a recovery job; passphrase only for another server's backups (else null).</summary>
        internal static JobInfo RecoveryStart(AgentHandle agent, RecoveryRequestInfo request, SecretBytes passphrase)
        {
            var allocated = new List<IntPtr>();
            IntPtr items = IntPtr.Zero;
            try
            {
                var raw = new ObRecoveryRequestNative
                {
                    version = 1,
                    server_name = Unmanaged(request.ServerName, allocated),
                    passphrase = passphrase == null ? IntPtr.Zero : passphrase.Pointer,
                    passphrase_len = new UIntPtr(passphrase == null ? 0u : (uint)passphrase.Length),
                    point_id = Unmanaged(request.PointId, allocated),
                    datasource_id = request.DatasourceId,
                    item_count = new UIntPtr((uint)request.Items.Count),
                    destination = Unmanaged(request.Destination, allocated),
                    overwrite = request.Overwrite,
                    skip_security = request.SkipSecurity ? 1 : 0,
                };
                items = Marshal.AllocHGlobal(Math.Max(1, request.Items.Count) * IntPtr.Size);
                for (int i = 0; i < request.Items.Count; i++)
                    Marshal.WriteIntPtr(items, i * IntPtr.Size, Unmanaged(request.Items[i] ?? "", allocated));
                raw.items = items;
                IntPtr p;
                int rc = NativeMethods.ob_recovery_start(out p, agent, ref raw);
                return TakeJob(rc, p);
            }
            finally
            {
                if (items != IntPtr.Zero)
                    Marshal.FreeHGlobal(items);
                foreach (IntPtr a in allocated)
                    Marshal.FreeHGlobal(a);
            }
        }

        /// <summary>A NUL-terminated UTF-8 copy of s in unmanaged memory (IntPtr.Zero for null), recorded in allocated.</summary>
        private static IntPtr Unmanaged(string s, List<IntPtr> allocated)
        {
            byte[] bytes = Utf8.ToNative(s);
            if (bytes == null)
                return IntPtr.Zero;
            IntPtr p = Marshal.AllocHGlobal(bytes.Length);
            allocated.Add(p);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            return p;
        }
    }
}
