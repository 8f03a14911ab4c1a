using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Security;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Start-OBRecovery: restore recoverable items (from Get-OBRecoverableItem or
    /// New-OBRecoverableItem; a recovery point item restores its whole data source) as a recovery
    /// job. Items come from the pipeline or -RecoverableItem and are restored together once all
    /// have arrived; they must belong to one recovery point of one data source. Without -Async it
    /// prints "Estimating size of backup items...", follows the job as Start-OBBackup does and ends
    /// with "The recovery operation completed successfully." (or a warning naming the items that
    /// could not be restored, or the job's error); Ctrl+C stops the job, keeping what it restored.
    /// With -Async it returns the OBJob (JobType Recovery).
    ///
    /// -RestoreSpecialFiles (an obagent extension of MARS's parameters, as tar's --same-permissions)
    /// also makes device nodes and gives files their set-user-id and set-group-id bits; without it
    /// neither is restored, from any vault, and each is listed as a warning of the job
    /// (CompletedWithWarning): a forged point, or another server's, cannot plant a device node or
    /// a set-id program.
    ///
    /// Another server's items need -EncryptionPassphrase (that server's) and a RecoveryOption with
    /// a DestinationPath: they have no original location here.
    ///
    /// Refusals made here, all InvalidArgument: RecoverableItemNotUsable, an item that did not come
    /// from this module; RecoverableItemsFromSeveralPoints; DestinationPathRequired;
    /// EncryptionPassphraseRequired.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "OBRecovery", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(string), typeof(OBJob))]
    public sealed class StartOBRecoveryCommand : OBJobCmdletBase
    {
        internal const string Estimating = "Estimating size of backup items...";

        private static readonly JobTexts Texts = new JobTexts
        {
            Activity = "Recovering",
            Success = "The recovery operation completed successfully.",
            WarningLine = "The recovery operation completed with warnings: {0} item(s) could not be recovered in full.",
            WarningHeader = "{0} item(s) could not be recovered in full:",
            Aborted = "The recovery was stopped before it finished. The items already recovered are kept.",
            Failed = "The recovery failed. Get-OBJob -Previous 1 shows the job.",
        };

        private readonly List<OBRecoverableItem> items = new List<OBRecoverableItem>();

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public OBRecoverableItem[] RecoverableItem { get; set; }

        [Parameter(Position = 1)]
        public OBRecoveryOption RecoveryOption { get; set; }

        [Parameter(Position = 2)]
        public SecureString EncryptionPassphrase { get; set; }

        [Parameter]
        public SwitchParameter Async { get; set; }

        [Parameter]
        public SwitchParameter RestoreSpecialFiles { get; set; }

        /// <summary>MARS's legacy -Credential (in mars.md's own example): accepted for old scripts and
        /// ignored; the vault is reached with this server's registration.</summary>
        [Parameter]
        public PSCredential Credential { get; set; }

        private bool credentialNoted;

        protected override object ErrorTarget
        {
            get { return items.Count > 0 ? items[0] : null; }
        }

        protected override void Execute()
        {
            if (Credential != null && !credentialNoted)
            {
                credentialNoted = true;
                WriteVerbose("-Credential is a legacy MARS parameter and is ignored: the vault is reached with this server's registration.");
            }
            foreach (OBRecoverableItem item in RecoverableItem)
            {
                if (item == null)
                    continue;
                if (!item.Usable)
                {
                    ThrowError("This recoverable item was not made by Get-OBRecoverableItem or New-OBRecoverableItem in this session "
                        + "(it may have been deserialized); get it again with Get-OBRecoverableItem.",
                        "RecoverableItemNotUsable", ErrorCategory.InvalidArgument, item);
                    return;
                }
                items.Add(item);
            }
        }

        protected override void EndProcessing()
        {
            if (items.Count > 0)
                Guarded(Recover);
        }

        private void Recover()
        {
            OBRecoverableItem first = items[0];
            foreach (OBRecoverableItem item in items)
            {
                if (item.RecoveryPointId != first.RecoveryPointId || item.DatasourceId != first.DatasourceId
                    || item.OtherServer != first.OtherServer)
                {
                    ThrowError(string.Format("'{0}' ({1:yyyy-MM-dd HH:mm:ss}) and '{2}' ({3:yyyy-MM-dd HH:mm:ss}) are not in the same recovery point of the same data source. "
                        + "Start one recovery for each recovery point.", first.ItemNameFriendly, first.PointInTime, item.ItemNameFriendly, item.PointInTime),
                        "RecoverableItemsFromSeveralPoints", ErrorCategory.InvalidArgument, item);
                    return;
                }
            }
            string destination = RecoveryOption == null ? null : RecoveryOption.DestinationPath;
            if (first.OtherServer != null && destination == null)
            {
                ThrowError(string.Format("These items are backups of server '{0}', which have no original location on this server. "
                    + "Give a recovery option with a destination folder: -RecoveryOption (New-OBRecoveryOption -DestinationPath <folder>).",
                    first.ServerName), "DestinationPathRequired", ErrorCategory.InvalidArgument, first);
                return;
            }
            if (first.OtherServer != null && EncryptionPassphrase == null)
            {
                ThrowError(string.Format("The backups of server '{0}' are encrypted with its own passphrase: add -EncryptionPassphrase "
                    + "with the passphrase last set on '{0}'.", first.ServerName),
                    "EncryptionPassphraseRequired", ErrorCategory.InvalidArgument, first);
                return;
            }

            var paths = new List<string>();
            foreach (OBRecoverableItem item in items)
            {
                if (item.RelativePath.Length == 0)
                {
                    paths.Clear();
                    paths.Add("");
                    break;
                }
                if (!paths.Contains(item.RelativePath))
                    paths.Add(item.RelativePath);
            }
            string what = paths.Count == 1
                ? (paths[0].Length == 0 ? "all of " + first.MountPointName : RecoveryItems.FriendlyPath(first.MountPointName, paths[0]))
                : string.Format(CultureInfo.InvariantCulture, "{0} items", paths.Count);
            string target = string.Format(CultureInfo.InvariantCulture, "{0} of {1} ({2:yyyy-MM-dd HH:mm:ss})", what, first.ServerName, first.PointInTime);
            if (!ShouldProcess(target, "Recover to " + (destination ?? "the original location")))
                return;

            var request = new RecoveryRequestInfo
            {
                ServerName = first.OtherServer,
                PointId = first.RecoveryPointId,
                DatasourceId = first.DatasourceId,
                Items = paths,
                Destination = destination,
                Overwrite = RecoveryOption == null ? (int)OBOverwriteType.CreateCopy : (int)RecoveryOption.OverwriteType,
                SkipSecurity = RecoveryOption != null && !RecoveryOption.RestoreSecurity,
                SpecialFiles = RestoreSpecialFiles.IsPresent,
            };
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                if (!Async.IsPresent)
                    WriteObject(Estimating);
                JobInfo job = Start(agent, request, first);
                if (Async.IsPresent)
                {
                    WriteObject(JobMapping.ToOBJob(job, PolicyMapping.Committed(agent, withProtection: false)));
                    return;
                }
                FollowJob(agent, job, Texts, Estimating);
            }
        }

        private JobInfo Start(AgentHandle agent, RecoveryRequestInfo request, OBRecoverableItem first)
        {
            if (first.OtherServer == null)
                return Native.RecoveryStart(agent, request, null);
            try
            {
                using (SecretBytes secret = SecretBytes.FromSecureString(EncryptionPassphrase))
                {
                    return Native.RecoveryStart(agent, request, secret);
                }
            }
            catch (OBAgentException ex)
            {
                throw RecoveryItems.PassphraseFailure(ex, first.ServerName, true);
            }
        }

        internal override OBAgentException JobFailure(int code, string message)
        {
            OBAgentException ex = base.JobFailure(code, message);
            OBRecoverableItem first = items.Count > 0 ? items[0] : null;
            return first != null && first.OtherServer != null ? RecoveryItems.PassphraseFailure(ex, first.ServerName, true) : ex;
        }
    }
}
