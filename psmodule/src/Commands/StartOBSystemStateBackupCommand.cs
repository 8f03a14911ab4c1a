using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Start-OBSystemStateBackup: capture this server's System State and back it up now, as a
    /// recovery point of its own ("System State"). Without -Async it follows the job like
    /// Start-OBBackup; with -Async it returns the OBJob at once.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "OBSystemStateBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(string), typeof(OBJob))]
    public sealed class StartOBSystemStateBackupCommand : OBJobCmdletBase
    {
        [Parameter]
        public SwitchParameter Async { get; set; }

        protected override void Execute()
        {
            if (!ShouldProcess(ServerNameHint(), "Back up the System State now"))
                return;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                JobInfo job = Native.SystemStateBackupStart(agent);
                OBPolicy policy = PolicyMapping.CommittedSystemState(agent);
                if (Async.IsPresent)
                {
                    WriteObject(JobMapping.ToOBJob(job, policy));
                    return;
                }
                FollowJob(agent, job, Texts, null);
            }
        }

        private static readonly JobTexts Texts = new JobTexts
        {
            Activity = "Backing up the System State",
            Success = "The backup operation completed successfully.",
            WarningLine = "The backup operation completed with warnings: {0} file(s) could not be backed up.",
            WarningHeader = "{0} file(s) could not be backed up:",
            Aborted = "The System State backup was stopped before it finished.",
            Failed = "The System State backup failed. Get-OBJob -Previous 1 shows the job.",
            BackupSequence = true,
        };
    }
}
