using OBAgent;

namespace Microsoft.Internal.CloudBackup.Client.Common
{
    /// <summary>What CBClientCommon.QueryJobs returns: the jobs as Get-OBJob returns them.</summary>
    public sealed class CBQueryJobsResult
    {
        /// <summary>The job in progress (zero or one element).</summary>
        public OBJob[] RunningJobs { get; internal set; }

        /// <summary>Finished jobs, in Get-OBJob -Previous order (oldest first, newest last).</summary>
        public OBJob[] FinishedJobs { get; internal set; }

        /// <summary>The newest finished backup job, null when none.</summary>
        public OBJob LastBackupJob { get; internal set; }
    }
}
