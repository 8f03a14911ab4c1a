using System;
using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBAllRecoveryPoints: one OBBackupInfo per recovery point of this server, newest first. A
    /// System State point shows "System State" in DataSources. -IncludeDeleted (obagent's own) lists
    /// the soft-deleted points too, with DeletedTime and PurgeAfter.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBAllRecoveryPoints")]
    [OutputType(typeof(OBBackupInfo))]
    public sealed class GetOBAllRecoveryPointsCommand : OBCmdletBase
    {
        [Parameter]
        public SwitchParameter IncludeDeleted { get; set; }

        private static DateTime? Local(long seconds)
        {
            return seconds == 0 ? (DateTime?)null : DateTimeOffset.FromUnixTimeSeconds(seconds).LocalDateTime;
        }

        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                var points = IncludeDeleted.IsPresent ? Native.RecoveryPointsAll(agent) : Native.RecoveryPoints(agent);
                foreach (RecoveryPointInfo p in points)
                {
                    if (p.Damaged)
                        WriteWarning(RecoveryItems.DamagedPointWarning(p));
                    else if (!string.IsNullOrEmpty(p.Problem))
                        foreach (string warning in p.Problem.Split('\n'))
                            WriteWarning("Recovery point " + p.Id + ": " + warning);
                    WriteObject(new OBBackupInfo
                    {
                        BackupTime = DateTimeOffset.FromUnixTimeSeconds(p.BackupTime).LocalDateTime,
                        DataSources = p.Kind == "SystemState" ? new[] { "System State" } : p.Datasources,
                        RecoveryPointId = p.Id,
                        RetainUntil = Local(p.RetainUntil),
                        FileCount = p.Files,
                        Size = p.Bytes,
                        DeletedTime = Local(p.DeletedAt),
                        PurgeAfter = Local(p.PurgeAfter),
                        State = p.Damaged ? "Damaged" : p.DeletedAt != 0 ? "Deleted" : "Available",
                        Problem = p.Problem,
                    });
                }
            }
        }
    }
}
