using System;

namespace Microsoft.Internal.CloudBackup.Client.Common
{
    /// <summary>The recovery points of this server: newest and oldest backup time (local), and how many.</summary>
    public sealed class CBRecoveryPointsInfo
    {
        /// <summary>Backup time of the newest recovery point; DateTime.MinValue when there is none.</summary>
        public DateTime LatestCopy { get; internal set; }

        /// <summary>Backup time of the oldest recovery point; DateTime.MinValue when there is none.</summary>
        public DateTime OldestCopy { get; internal set; }

        public int Count { get; internal set; }
    }
}
