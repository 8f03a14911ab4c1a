using System;

namespace OBAgent
{
    /// <summary>What ob_job_info holds, copied out of native memory.</summary>
    internal sealed class JobInfo
    {
        internal string JobId;
        internal int Type;
        internal int State;
        internal long StartTime;
        internal long EndTime;
        internal string Phase;
        internal int ErrorCode;
        internal string ErrorMessage;
        internal ulong FilesScanned;
        internal ulong FilesDone;
        internal ulong FilesFailed;
        internal ulong BytesScanned;
        internal ulong BytesDone;
        internal ulong BytesUploaded;
        /// <summary>0 to 100 (ob_job_percent_complete: bytes in the vault of bytes found), -1 unknown.</summary>
        internal int PercentComplete;
        internal long DatasourceId;
        internal string[] Datasources;
        internal string RecoveryPoint;
        /// <summary>A mount job's folder (Native.MountPath), else null.</summary>
        internal string MountPath;
    }
}
