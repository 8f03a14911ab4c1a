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
        internal string[] Warnings;
    }
}
