using System;

namespace OBAgent
{
    /// <summary>What ob_maintenance_report holds.</summary>
    internal sealed class MaintenanceReportInfo
    {
        internal ulong PointsPurged;
        internal ulong PacksMarked;
        internal ulong PacksDeleted;
        internal ulong PacksRepacked;
        internal ulong BytesReclaimed;
        internal ulong BytesInUse;
        internal ulong ObjectsSkipped;
        /// <summary>One line a warning: objects skipped, removed or replaced as not genuine, markers ignored.</summary>
        internal string[] Warnings;
    }
}
