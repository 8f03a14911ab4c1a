using System.Management.Automation;

namespace OBAgent.Commands
{
    /// <summary>
    /// New-OBRecoveryOption: where Start-OBRecovery restores (a folder, or the original location
    /// when no -DestinationPath is given), what it does with items that exist there (-OverwriteType,
    /// CreateCopy by default) and whether it restores owners, ACLs and extended attributes (without
    /// them, set-user-id and set-group-id bits are not restored either). A
    /// relative -DestinationPath is resolved against the current PowerShell location now.
    ///
    /// Refusal made here: PathContainsNul (InvalidArgument), a -DestinationPath with a NUL character.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "OBRecoveryOption")]
    [OutputType(typeof(OBRecoveryOption))]
    public sealed class NewOBRecoveryOptionCommand : OBCmdletBase
    {
        [Parameter(Position = 0)]
        [AllowNull]
        [AllowEmptyString]
        public string DestinationPath { get; set; }

        [Parameter(Position = 1)]
        public OBOverwriteType OverwriteType { get; set; }

        [Parameter]
        public SwitchParameter SkipRestoreSecurity { get; set; }

        protected override void Execute()
        {
            RefuseNul(DestinationPath, "The destination path");
            WriteObject(new OBRecoveryOption
            {
                DestinationPath = string.IsNullOrEmpty(DestinationPath) ? null : TrimSeparator(ResolvePath(DestinationPath)),
                OverwriteType = OverwriteType,
                RestoreSecurity = !SkipRestoreSecurity.IsPresent,
            });
        }
    }
}
