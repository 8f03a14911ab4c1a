using System;
using OBAgent.Interop;

namespace OBAgent.Mapping
{
    /// <summary>Jobs (JobInfo) as the OBJob objects Get-OBJob, Start-OBBackup -Async and the other job cmdlets return.</summary>
    internal static class JobMapping
    {
        private const string SystemStateName = "System State";

        private static DateTime LocalTime(long seconds)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds).LocalDateTime;
        }

        /// <summary>
        /// The Guid of an engine job id: the id parsed when it is a GUID (the engine makes them so), else a
        /// name-based Guid (RFC 4122 version 5 layout over SHA-1 of "obagent-job:" and the id), the same every time.
        /// </summary>
        internal static Guid ToGuid(string engineJobId)
        {
            Guid guid;
            if (engineJobId != null && Guid.TryParseExact(engineJobId, "D", out guid))
                return guid;
            byte[] hash;
            using (var sha1 = System.Security.Cryptography.SHA1.Create())
                hash = sha1.ComputeHash(System.Text.Encoding.UTF8.GetBytes("obagent-job:" + (engineJobId ?? "")));
            var b = new byte[16];
            Array.Copy(hash, b, 16);
            b[6] = (byte)((b[6] & 0x0f) | 0x50);
            b[8] = (byte)((b[8] & 0x3f) | 0x80);
            // Guid(byte[]) reads the first three fields little-endian; swap them so the text is the RFC order.
            Array.Reverse(b, 0, 4);
            Array.Reverse(b, 4, 2);
            Array.Reverse(b, 6, 2);
            return new Guid(b);
        }

        /// <summary>A job as an OBJob; the committed policy (may be null) names the data source ids.</summary>
        internal static OBJob ToOBJob(JobInfo info, OBPolicy policy)
        {
            string state = Native.JobStateName(info.State);
            var error = new OBErrorInfo { ErrorCode = OBAgent.Compat.MarsErrorMap.ToMars(info.ErrorCode), DetailedErrorCode = info.ErrorCode, ErrorMessage = info.ErrorMessage };
            var statuses = new OBDatasourceStatus[info.Datasources.Length];
            for (int i = 0; i < statuses.Length; i++)
            {
                long id = 0;
                if (policy != null)
                {
                    foreach (OBDataSource ds in policy.DsList)
                    {
                        if (ds.DataSourceName == info.Datasources[i])
                            id = ds.DatasourceId;
                    }
                }
                // System State is not in the file policy; its id is fixed (the System State policy's DsList[0]).
                if (id == 0 && info.Datasources[i] == SystemStateName)
                    id = PolicyMapping.SystemStateDatasourceId;
                statuses[i] = new OBDatasourceStatus
                {
                    Datasource = new OBJobDatasource { DataSourceName = info.Datasources[i], DataSourceId = id },
                    JobState = state,
                    ByteProgress = new OBByteProgress { Progress = info.BytesDone, Total = info.BytesScanned, Uploaded = info.BytesUploaded },
                    ErrorInfo = error,
                    DriveLetter = info.MountPath,
                };
            }
            return new OBJob
            {
                JobId = ToGuid(info.JobId),
                EngineJobId = info.JobId,
                JobType = (OBJobType)info.Type,
                DisplayTime = LocalTime(info.StartTime),
                JobStatus = new OBJobStatus
                {
                    JobState = state,
                    StartTime = LocalTime(info.StartTime),
                    EndTime = info.EndTime == 0 ? (DateTime?)null : LocalTime(info.EndTime),
                    ErrorInfo = error,
                    DatasourceStatus = statuses,
                },
                FilesScanned = info.FilesScanned,
                FilesDone = info.FilesDone,
                FailedFileCount = info.FilesFailed,
                Phase = info.Phase,
                RecoveryPointId = info.RecoveryPoint,
            };
        }
    }
}
