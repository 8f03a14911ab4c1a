using System;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>
    /// Start-OBVaultMaintenance (obagent's own): purge this server's soft-deleted points whose 14 days
    /// are over, then reclaim unused space in its area of the vault (unused packs are marked by one
    /// run and deleted by a later run after -GracePeriod, default one hour; partly used packs are
    /// repacked). Needs delete rights: a local vault, or the storage account key of a vault on Azure
    /// (-StorageAccountKey, a string or a SecureString). Returns an OBMaintenanceReport.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "OBVaultMaintenance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(OBMaintenanceReport))]
    public sealed class StartOBVaultMaintenanceCommand : OBCmdletBase
    {
        [Parameter]
        [SecureStringToString]
        public string StorageAccountKey { get; set; }

        [Parameter]
        public TimeSpan GracePeriod { get; set; }

        protected override void Execute()
        {
            long grace = -1;
            if (MyInvocation.BoundParameters.ContainsKey("GracePeriod"))
            {
                if (GracePeriod < TimeSpan.Zero)
                {
                    ThrowError("-GracePeriod cannot be negative.", "GracePeriodNotValid", ErrorCategory.InvalidArgument, GracePeriod);
                    return;
                }
                grace = (long)GracePeriod.TotalSeconds;
            }
            if (!ShouldProcess(ServerNameHint(), "Purge expired deleted recovery points and reclaim unused vault space"))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                MaintenanceReportInfo r = Native.MaintenanceRun(agent, grace, string.IsNullOrEmpty(StorageAccountKey) ? null : StorageAccountKey);
                // Forged or damaged objects (skipped, removed or replaced) and markers that do not count, a line each.
                if (r.ObjectsSkipped > 0)
                    WriteWarning(string.Format("{0} vault objects were not genuine or did not open: they were skipped, removed or replaced (listed in the warnings that follow, as many as fit).",
                        r.ObjectsSkipped));
                foreach (string warning in r.Warnings)
                    WriteWarning(warning);
                WriteObject(new OBMaintenanceReport
                {
                    PointsPurged = r.PointsPurged,
                    PacksMarked = r.PacksMarked,
                    PacksDeleted = r.PacksDeleted,
                    PacksRepacked = r.PacksRepacked,
                    BytesReclaimed = r.BytesReclaimed,
                    BytesInUse = r.BytesInUse,
                });
            }
        }
    }
}
