using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
        // recovery.h

        private static RecoveryPointInfo ReadPoint(IntPtr p)
        {
            var raw = Marshal.PtrToStructure<ObRecoveryPointNative>(p);
            var ids = new List<long>();
            foreach (string id in Lines(Utf8.FromNative(raw.datasource_ids)))
            {
                long v;
                if (long.TryParse(id, NumberStyles.Integer, CultureInfo.InvariantCulture, out v))
                    ids.Add(v);
            }
            return new RecoveryPointInfo
            {
                Id = Utf8.FromNative(raw.id),
                BackupTime = raw.backup_time,
                ServerName = Utf8.FromNative(raw.server_name),
                Kind = Utf8.FromNative(raw.kind),
                Datasources = Array.ConvertAll(Lines(Utf8.FromNative(raw.datasources)), EnginePath.ToNative),
                DatasourceIds = ids.ToArray(),
                Files = raw.files,
                Bytes = raw.bytes,
                RetainUntil = raw.retain_until,
                JobId = Utf8.FromNative(raw.job_id),
                DeletedAt = raw.deleted_at,
                PurgeAfter = raw.purge_after,
                Damaged = raw.version >= 2 && raw.damaged != 0,
                Problem = raw.version >= 2 ? Utf8.FromNative(raw.problem) : null,
                Sealed = raw.version >= 3 && raw.point_sealed != 0,
            };
        }

        /// <summary>Run ob_recovery_points, ob_recovery_points_all or ob_recovery_list_points.</summary>
        private static List<RecoveryPointInfo> TakePoints(ListCall call)
        {
            return TakeList(call, NativeMethods.ob_recovery_points_free, ReadPoint);
        }

        internal static List<RecoveryPointInfo> RecoveryPoints(AgentHandle agent)
        {
            return TakePoints((out IntPtr list, out UIntPtr count) => NativeMethods.ob_recovery_points(out list, out count, agent));
        }

        /// <summary>This server's recovery points with the soft-deleted ones (DeletedAt set).</summary>
        internal static List<RecoveryPointInfo> RecoveryPointsAll(AgentHandle agent)
        {
            return TakePoints((out IntPtr list, out UIntPtr count) => NativeMethods.ob_recovery_points_all(out list, out count, agent));
        }

        /// <summary>Soft-delete a recovery point of this server, after the engine checks the security PIN.</summary>
        internal static void RecoveryPointRemove(AgentHandle agent, string pointId, string reason, string securityPin)
        {
            Check(NativeMethods.ob_recovery_point_remove(agent, Utf8.ToNative(pointId), Utf8.ToNative(reason),
                Utf8.ToNative(securityPin)));
        }

        private static MaintenanceReportInfo ReadMaintenanceReport(IntPtr p)
        {
            var raw = Marshal.PtrToStructure<ObMaintenanceReportNative>(p);
            return new MaintenanceReportInfo
            {
                PointsPurged = raw.points_purged,
                PacksMarked = raw.packs_marked,
                PacksDeleted = raw.packs_deleted,
                PacksRepacked = raw.packs_repacked,
                BytesReclaimed = raw.bytes_reclaimed,
                BytesInUse = raw.bytes_in_use,
                ObjectsSkipped = raw.version >= 2 ? raw.objects_skipped : 0,
                Warnings = raw.version >= 2 ? SplitWarnings(raw.warnings) : new string[0],
            };
        }

        private static string[] SplitWarnings(byte[] text)
        {
            if (text == null)
                return new string[0];
            int len = Array.IndexOf(text, (byte)0);
            string all = System.Text.Encoding.UTF8.GetString(text, 0, len < 0 ? text.Length : len);
            return all.Length == 0 ? new string[0] : all.Split('\n');
        }

        /// <summary>Run vault maintenance; graceSeconds -1 for the engine's default, ownerKey for an Azure vault.</summary>
        internal static MaintenanceReportInfo MaintenanceRun(AgentHandle agent, long graceSeconds, string ownerKey)
        {
            using (var scope = new UnmanagedScope())
            {
                var opts = new ObMaintenanceOptionsNative
                {
                    version = 1,
                    grace_seconds = graceSeconds,
                    repack_percent = 0,
                    owner_key = scope.AddSecret(ownerKey),
                };
                // The report is freed with free(); ob_str_free is free() (init.c).
                return Take((out IntPtr report) => NativeMethods.ob_maintenance_run(out report, agent, ref opts),
                    NativeMethods.ob_str_free, ReadMaintenanceReport);
            }
        }

        internal static ulong MachineUsage(AgentHandle agent)
        {
            ulong bytes;
            Check(NativeMethods.ob_machine_usage(out bytes, agent));
            return bytes;
        }

        private static BackupServerInfo ReadBackupServer(IntPtr p)
        {
            var raw = Marshal.PtrToStructure<ObBackupServerNative>(p);
            return new BackupServerInfo
            {
                ServerName = Utf8.FromNative(raw.server_name),
                ServerId = Utf8.FromNative(raw.server_id),
                RegisteredAt = raw.registered_at,
                IsThisServer = raw.is_this_server != 0,
            };
        }

        /// <summary>Every server registered to this server's vault, this one included (flagged).</summary>
        internal static List<BackupServerInfo> BackupServers(AgentHandle agent)
        {
            return TakeList((out IntPtr list, out UIntPtr count) => NativeMethods.ob_backup_servers(out list, out count, agent),
                NativeMethods.ob_backup_servers_free, ReadBackupServer);
        }

        private static RecoverySourceInfo ReadRecoverySource(IntPtr p)
        {
            var raw = Marshal.PtrToStructure<ObRecoverySourceNative>(p);
            return new RecoverySourceInfo
            {
                ServerName = Utf8.FromNative(raw.server_name),
                DatasourceId = raw.datasource_id,
                Name = EnginePath.FromNativePointer(raw.name),
                Kind = Utf8.FromNative(raw.kind),
            };
        }

        /// <summary>The data sources with recovery points of a server (null: this server).</summary>
        internal static List<RecoverySourceInfo> RecoverySources(AgentHandle agent, string serverName)
        {
            return TakeList((out IntPtr list, out UIntPtr count) =>
                NativeMethods.ob_recovery_sources(out list, out count, agent, Utf8.ToNative(serverName)),
                NativeMethods.ob_recovery_sources_free, ReadRecoverySource);
        }

        /// <summary>
        /// A recovery session: this server's (serverName null, passphrase null) or another's, opened
        /// with its passphrase (may be null, then the library says what is missing).
        /// </summary>
        internal static RecoveryHandle RecoveryOpen(AgentHandle agent, string serverName, SecretBytes passphrase)
        {
            return Open((out RecoveryHandle recovery) => NativeMethods.ob_recovery_open(out recovery, agent, Utf8.ToNative(serverName),
                passphrase == null ? IntPtr.Zero : passphrase.Pointer,
                new UIntPtr(passphrase == null ? 0u : (uint)passphrase.Length)));
        }

        /// <summary>Another server's points listed without its passphrase, from their signed summaries.</summary>
        internal static List<RecoveryPointInfo> RecoveryPointsOf(AgentHandle agent, string serverName)
        {
            return TakePoints((out IntPtr list, out UIntPtr count) =>
                NativeMethods.ob_recovery_points_of(out list, out count, agent, Utf8.ToNative(serverName)));
        }

        internal static List<RecoveryPointInfo> RecoveryListPoints(RecoveryHandle recovery)
        {
            return TakePoints((out IntPtr list, out UIntPtr count) => NativeMethods.ob_recovery_list_points(out list, out count, recovery));
        }

        private static RecoverableItemInfo ReadRecoverableItem(IntPtr p)
        {
            var raw = Marshal.PtrToStructure<ObRecoverableItemNative>(p);
            return new RecoverableItemInfo
            {
                Path = Utf8.FromNative(raw.path),
                Name = Utf8.FromNative(raw.name),
                IsDir = raw.is_dir != 0,
                Size = raw.size,
                MTime = raw.mtime,
            };
        }

        /// <summary>Run ob_recovery_browse or ob_recovery_search.</summary>
        private static List<RecoverableItemInfo> TakeItems(ListCall call)
        {
            return TakeList(call, NativeMethods.ob_recoverable_items_free, ReadRecoverableItem);
        }

        /// <summary>The items of one folder of a point ("" is the data source's root), sorted by name.</summary>
        internal static List<RecoverableItemInfo> RecoveryBrowse(RecoveryHandle recovery, string pointId, long datasourceId, string folder)
        {
            return TakeItems((out IntPtr list, out UIntPtr count) => NativeMethods.ob_recovery_browse(out list, out count, recovery,
                Utf8.ToNative(pointId), datasourceId, Utf8.ToNative(folder ?? "")));
        }

        /// <summary>Items below location whose names match pattern, depth first, at most max (0: all).</summary>
        internal static List<RecoverableItemInfo> RecoverySearch(RecoveryHandle recovery, string pointId, long datasourceId,
            string location, string pattern, ulong max)
        {
            return TakeItems((out IntPtr list, out UIntPtr count) => NativeMethods.ob_recovery_search(out list, out count, recovery,
                Utf8.ToNative(pointId), datasourceId, Utf8.ToNative(location ?? ""), Utf8.ToNative(pattern), new UIntPtr(max)));
        }

        /// <summary>
        /// Read and authenticate everything a point needs. Returns the damage found (path, problem),
        /// empty when healthy; OB_ECORRUPT is a result here, not a failure (so not Take's shape).
        /// </summary>
        internal static List<OBFailedFile> RecoveryTest(RecoveryHandle recovery, string pointId, out ulong objects)
        {
            IntPtr report;
            int rc = NativeMethods.ob_recovery_test(out report, out objects, recovery, Utf8.ToNative(pointId));
            bool corrupt = rc == (int)ErrorCode.Corrupt;
            if (rc < 0 && !corrupt)
            {
                OBAgentException failure = Failure(rc);
                NativeMethods.ob_str_free(report);
                throw failure;
            }
            List<OBFailedFile> damage = ParseFailures(Utf8.TakeOwned(report));
            if (corrupt && damage.Count == 0)
                damage.Add(new OBFailedFile { Path = "", Reason = Utf8.FromNative(NativeMethods.ob_error_last()) });
            if (corrupt)
                NativeMethods.ob_error_clear();
            return damage;
        }

        /// <summary>
        /// The vault objects the session skipped (index objects that do not open: damaged, or forged by
        /// another server), as (name, what) pairs; they fail nothing and are shown as warnings.
        /// </summary>
        internal static List<OBFailedFile> RecoveryWarnings(RecoveryHandle recovery)
        {
            return ParseFailures(TakeString((out IntPtr text) => NativeMethods.ob_recovery_warnings(out text, recovery)));
        }

        /// <summary>Start a recovery job; passphrase only for another server's backups (else null).</summary>
        internal static JobInfo RecoveryStart(AgentHandle agent, RecoveryRequestInfo request, SecretBytes passphrase)
        {
            using (var scope = new UnmanagedScope())
            {
                var raw = new ObRecoveryRequestNative
                {
                    version = 2,
                    server_name = scope.Add(request.ServerName),
                    passphrase = passphrase == null ? IntPtr.Zero : passphrase.Pointer,
                    passphrase_len = new UIntPtr(passphrase == null ? 0u : (uint)passphrase.Length),
                    point_id = scope.Add(request.PointId),
                    datasource_id = request.DatasourceId,
                    item_count = new UIntPtr((uint)request.Items.Count),
                    destination = scope.Add(request.Destination),
                    overwrite = request.Overwrite,
                    skip_security = request.SkipSecurity ? 1 : 0,
                    special_files = request.SpecialFiles ? 1 : 0,
                };
                raw.items = scope.Allocate(Math.Max(1, request.Items.Count) * IntPtr.Size);
                for (int i = 0; i < request.Items.Count; i++)
                    Marshal.WriteIntPtr(raw.items, i * IntPtr.Size, scope.Add(request.Items[i] ?? ""));
                return TakeJob((out IntPtr p) => NativeMethods.ob_recovery_start(out p, agent, ref raw));
            }
        }
    }
}
