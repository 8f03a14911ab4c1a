using System;
using System.Collections.Generic;

namespace OBAgent
{
    /// <summary>MSOnlineBackup CBJobType.</summary>
    public enum OBJobType
    {
        Backup = 1,
        Recovery = 2,
        /// <summary>A recovery point mounted for browsing (Start-OBRecoveryMount; OB_JOB_MOUNT).</summary>
        ItemLevelRecovery = 3,

        /// <summary>obagent's restore drill (Start-OBRecoveryDrill); MARS has none.</summary>
        RecoveryDrill = 4,
    }

    /// <summary>The -Status filter of Get-OBJob -Previous (MSOnlineBackup CBJobStatusFilter).</summary>
    public enum JobStatusFilter
    {
        All = 0,
        Successful = 1,
        Failed = 2,
    }

    /// <summary>What went wrong: the engine's status code (0 when nothing) and its message.</summary>
    public sealed class OBErrorInfo
    {
        /// <summary>MARS's numeric code of the failure (docs/MARS-TYPES.md), 0 when none.</summary>
        public int ErrorCode { get; internal set; }

        /// <summary>The engine's ob_error_code of the failure (negative), 0 when none.</summary>
        public int DetailedErrorCode { get; internal set; }

        public string ErrorMessage { get; internal set; }

        public override string ToString()
        {
            return ErrorCode == 0 ? "None" : string.Format("{0}: {1}", ErrorCode, ErrorMessage);
        }
    }

    /// <summary>A data source a job works on.</summary>
    public sealed class OBJobDatasource
    {
        public string DataSourceName { get; internal set; }

        /// <summary>The data source's id in the committed policy (0 when it is no longer in it).</summary>
        public long DataSourceId { get; internal set; }

        public override string ToString()
        {
            return DataSourceName;
        }
    }

    /// <summary>Bytes of a job: Progress done, Total of the files looked at, Uploaded to the vault.</summary>
    public sealed class OBByteProgress
    {
        public ulong Progress { get; internal set; }

        public ulong Total { get; internal set; }

        public ulong Uploaded { get; internal set; }

        public override string ToString()
        {
            return string.Format("{0} / {1} bytes", Progress, Total);
        }
    }

    /// <summary>
    /// The status of one data source of a job. The engine counts bytes per job, so ByteProgress
    /// holds the job's totals.
    /// </summary>
    public sealed class OBDatasourceStatus
    {
        public OBJobDatasource Datasource { get; internal set; }

        public string JobState { get; internal set; }

        public OBByteProgress ByteProgress { get; internal set; }

        public OBErrorInfo ErrorInfo { get; internal set; }

        /// <summary>A mount job's (ItemLevelRecovery) mount location, as MARS's drive letter: a folder on Linux. Else null.</summary>
        public string DriveLetter { get; internal set; }
    }

    /// <summary>The state and times of a job.</summary>
    public sealed class OBJobStatus
    {
        /// <summary>InProgress, Completed, CompletedWithWarning, Failed or Aborted.</summary>
        public string JobState { get; internal set; }

        /// <summary>Local time.</summary>
        public DateTime StartTime { get; internal set; }

        /// <summary>Local time; null while the job runs.</summary>
        public DateTime? EndTime { get; internal set; }

        public OBErrorInfo ErrorInfo { get; internal set; }

        public OBDatasourceStatus[] DatasourceStatus { get; internal set; }

        public override string ToString()
        {
            return JobState;
        }
    }

    /// <summary>A file a job could not process, and why.</summary>
    public sealed class OBFailedFile
    {
        public string Path { get; internal set; }

        public string Reason { get; internal set; }

        public override string ToString()
        {
            return Path + ": " + Reason;
        }
    }

    /// <summary>A backup or recovery job, as Start-OBBackup -Async, Get-OBJob and Stop-OBJob return it.</summary>
    public sealed class OBJob
    {
        /// <summary>
        /// The job's id as a Guid, as in MARS. The engine's job ids are GUIDs, so this is the same id
        /// parsed (its "D" text is the engine's); an id that is not a GUID maps to a name-based Guid
        /// (JobIds.ToGuid), so the same job always has the same JobId.
        /// </summary>
        public Guid JobId { get; internal set; }

        /// <summary>The engine's job id (text), which the job calls (Stop-OBJob, failed files) pass to the engine.</summary>
        internal string EngineJobId { get; set; }

        /// <summary>The engine's id of this job: EngineJobId, or for an OBJob made without one the Guid's text.</summary>
        internal string EngineId
        {
            get { return EngineJobId ?? JobId.ToString("D"); }
        }

        public OBJobType JobType { get; internal set; }

        /// <summary>When the job started, local time.</summary>
        public DateTime DisplayTime { get; internal set; }

        public OBJobStatus JobStatus { get; internal set; }

        public ulong FilesScanned { get; internal set; }

        public ulong FilesDone { get; internal set; }

        public ulong FailedFileCount { get; internal set; }

        /// <summary>The step the job is in (the progress line Start-OBBackup prints).</summary>
        public string Phase { get; internal set; }

        /// <summary>The recovery point the job made or used, or null.</summary>
        public string RecoveryPointId { get; internal set; }

        private OBFailedFile[] failedFiles;

        /// <summary>
        /// The files this job could not process (Path, Reason), read from the agent's job history when first
        /// asked for. A property, so that it crosses PSRemoting (a method does not).
        /// </summary>
        public OBFailedFile[] FailedFiles
        {
            get
            {
                if (failedFiles == null)
                    failedFiles = FailedFileCount == 0 ? new OBFailedFile[0] : GetFailedFiles();
                return failedFiles;
            }
        }

        /// <summary>The files this job could not process, read from the agent's job history.</summary>
        public OBFailedFile[] GetFailedFiles()
        {
            Interop.Native.SyncEnvironment();
            using (Interop.AgentHandle agent = Interop.Native.AgentOpen(null))
            {
                return Interop.Native.JobFailedFiles(agent, EngineId).ToArray();
            }
        }

        public override string ToString()
        {
            return string.Format("{0} {1} {2}", JobType, JobId, JobStatus == null ? "" : JobStatus.JobState);
        }
    }

    /// <summary>Get-OBMachineUsage: what this server stores in its vault.</summary>
    public sealed class OBMachineUsage
    {
        public ulong StorageUsedByMachineInBytes { get; internal set; }

        /// <summary>When the usage was measured (local time, as the other times of the module).</summary>
        public DateTime Time { get; internal set; }

        public override string ToString()
        {
            return StorageUsedByMachineInBytes.ToString();
        }
    }

    /// <summary>A recovery point, as Get-OBAllRecoveryPoints lists it.</summary>
    public sealed class OBBackupInfo
    {
        /// <summary>When the backup was taken, local time.</summary>
        public DateTime BackupTime { get; internal set; }

        /// <summary>The data sources in the point (a System State point says "System State").</summary>
        public string[] DataSources { get; internal set; }

        public string RecoveryPointId { get; internal set; }

        /// <summary>Kept at least until then (local time), or null when the policy's retention decides.</summary>
        public DateTime? RetainUntil { get; internal set; }

        public ulong FileCount { get; internal set; }

        public ulong Size { get; internal set; }

        /// <summary>obagent: when the point was soft-deleted (local time), or null; filled by -IncludeDeleted.</summary>
        public DateTime? DeletedTime { get; internal set; }

        /// <summary>obagent: after this (local time) vault maintenance reclaims a soft-deleted point's space, or null.</summary>
        public DateTime? PurgeAfter { get; internal set; }

        /// <summary>
        /// obagent: "Available", "Deleted" (soft-deleted, with -IncludeDeleted) or "Damaged": the point's record
        /// cannot be read, so nothing can be restored from it (Problem says why; Test-OBRecoveryPoint reports it).
        /// </summary>
        public string State { get; internal set; }

        /// <summary>obagent: why a Damaged point cannot be read, else null.</summary>
        public string Problem { get; internal set; }

        public override string ToString()
        {
            return BackupTime.ToString("u");
        }
    }

    /// <summary>What a run of Start-OBVaultMaintenance did (obagent's own; MARS maintains its vaults in Azure).</summary>
    public sealed class OBMaintenanceReport
    {
        /// <summary>Soft-deleted points whose 14 days were over, removed.</summary>
        public ulong PointsPurged { get; internal set; }

        /// <summary>Unused packs marked, deleted by a later run after the grace period.</summary>
        public ulong PacksMarked { get; internal set; }

        public ulong PacksDeleted { get; internal set; }

        public ulong PacksRepacked { get; internal set; }

        public ulong BytesReclaimed { get; internal set; }

        /// <summary>What this server stores in the vault after the run.</summary>
        public ulong BytesInUse { get; internal set; }

        public override string ToString()
        {
            return string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "{0} point(s) purged, {1} byte(s) reclaimed, {2} byte(s) in use", PointsPurged, BytesReclaimed, BytesInUse);
        }
    }
}
