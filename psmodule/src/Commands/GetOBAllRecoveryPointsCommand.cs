using System;
using System.Management.Automation;
using OBAgent.Interop;

namespace OBAgent.Commands
{
    /// <summary>Get-OBAllRecoveryPoints: one OBBackupInfo per recovery point of this server, newest first.</summary>
    [Cmdlet(VerbsCommon.Get, "OBAllRecoveryPoints")]
    [OutputType(typeof(OBBackupInfo))]
    public sealed class GetOBAllRecoveryPointsCommand : OBCmdletBase
    {
        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                foreach (RecoveryPointInfo p in Native.RecoveryPoints(agent))
                {
                    WriteObject(new OBBackupInfo
                    {
                        BackupTime = DateTimeOffset.FromUnixTimeSeconds(p.BackupTime).LocalDateTime,
                        DataSources = p.Kind == "SystemState" ? new[] { "System State" } : p.Datasources,
                        RecoveryPointId = p.Id,
                        RetainUntil = p.RetainUntil == 0 ? (DateTime?)null : DateTimeOffset.FromUnixTimeSeconds(p.RetainUntil).LocalDateTime,
                        FileCount = p.Files,
                        Size = p.Bytes,
                    });
                }
            }
        }
    }
}
