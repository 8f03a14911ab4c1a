using System;
using System.Management.Automation;
using System.Security;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Start-OBRecoveryMount (MARS's Instant Restore): mount the recovery point of a recoverable
    /// item read-only, its whole data source, as a job of type ItemLevelRecovery (docs/MOUNT.md).
    /// Once mounted it prints MARS's line "Recovery volume mounted as disk. Browse volume from file
    /// explorer to recover items." followed by where (a folder on Linux, where MARS names a drive
    /// letter); with -Async it returns the OBJob instead, whose
    /// JobStatus.DatasourceStatus[0].DriveLetter holds the folder. The point stays mounted until
    /// Stop-OBJob, `obagent unmount`, or its expiry (6 hours, as MARS; -Expiry). Backups go on
    /// meanwhile.
    ///
    /// -MountPath (an obagent extension): an empty folder to mount at; by default a folder of
    /// the state folder, removed after. -RecoveryOption is accepted for MARS's scripts and not
    /// used: a mount restores nothing.
    ///
    /// Refusals made here, all InvalidArgument: RecoverableItemNotUsable; EncryptionPassphraseRequired
    /// (another server's point); ExpiryNotPositive.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "OBRecoveryMount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(string), typeof(OBJob))]
    public sealed class StartOBRecoveryMountCommand : OBCmdletBase
    {
        internal const string MountedLine = "Recovery volume mounted as disk. Browse volume from file explorer to recover items.";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBRecoverableItem RecoverableItem { get; set; }

        [Parameter(Position = 1)]
        public OBRecoveryOption RecoveryOption { get; set; }

        [Parameter(Position = 2)]
        public SecureString EncryptionPassphrase { get; set; }

        [Parameter]
        public SwitchParameter Async { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string MountPath { get; set; }

        [Parameter]
        public TimeSpan? Expiry { get; set; }

        protected override object ErrorTarget
        {
            get { return RecoverableItem; }
        }

        protected override void Execute()
        {
            OBRecoverableItem item = RecoverableItem;
            if (!item.Usable)
            {
                ThrowError("This recoverable item was not made by Get-OBRecoverableItem or New-OBRecoverableItem in this session "
                    + "(it may have been deserialized); get it again with Get-OBRecoverableItem.",
                    "RecoverableItemNotUsable", ErrorCategory.InvalidArgument, item);
                return;
            }
            if (item.OtherServer != null && EncryptionPassphrase == null)
            {
                ThrowError(string.Format("The backups of server '{0}' are encrypted with its own passphrase: add -EncryptionPassphrase "
                    + "with the passphrase last set on '{0}'.", item.ServerName),
                    "EncryptionPassphraseRequired", ErrorCategory.InvalidArgument, item);
                return;
            }
            if (Expiry.HasValue && Expiry.Value.TotalSeconds < 1)
            {
                ThrowError("-Expiry must be at least one second (the default is 6 hours).", "ExpiryNotPositive",
                    ErrorCategory.InvalidArgument, Expiry.Value);
                return;
            }
            if (RecoveryOption != null)
                WriteVerbose("-RecoveryOption is not used by a mount: nothing is restored, the point is only browsed.");
            if (item.RelativePath.Length > 0)
                WriteVerbose(string.Format("The whole data source {0} of the recovery point is mounted, '{1}' in it.",
                    item.MountPointName, item.ItemNameFriendly));
            string folder = MountPath == null ? null : ResolvePath(MountPath);
            if (folder != null)
                RefuseNul(folder, "-MountPath");
            string target = string.Format("{0} of {1} ({2:yyyy-MM-dd HH:mm:ss})", item.MountPointName, item.ServerName, item.PointInTime);
            if (!ShouldProcess(target, "Mount read-only" + (folder == null ? "" : " at " + folder)))
                return;
            long expiry = Expiry.HasValue ? (long)Math.Ceiling(Expiry.Value.TotalSeconds) : 0;
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                JobInfo job;
                if (item.OtherServer == null)
                {
                    job = Native.MountStart(agent, null, null, item.RecoveryPointId, item.DatasourceId, folder, expiry);
                }
                else
                {
                    try
                    {
                        using (SecretBytes secret = SecretBytes.FromSecureString(EncryptionPassphrase))
                        {
                            job = Native.MountStart(agent, item.OtherServer, secret, item.RecoveryPointId, item.DatasourceId, folder, expiry);
                        }
                    }
                    catch (OBAgentException ex)
                    {
                        throw RecoveryItems.PassphraseFailure(ex, item.ServerName, true);
                    }
                }
                if (Async.IsPresent)
                    WriteObject(JobMapping.ToOBJob(job, PolicyMapping.Committed(agent, withProtection: false)));
                else
                    WriteObject(MountedLine + job.MountPath);
            }
        }
    }
}
