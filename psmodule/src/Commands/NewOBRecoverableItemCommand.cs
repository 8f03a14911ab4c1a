using System.Management.Automation;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// New-OBRecoverableItem: name a file or folder of a recovery point without browsing to it, by
    /// its path relative to the data source's root ("srv/data/cat.jpg" or "srv\data\cat.jpg"; a
    /// leading separator is ignored). Start-OBRecovery checks that it exists.
    ///
    /// Refusals made here: RecoverableItemNotUsable (InvalidArgument), an item that did not come
    /// from this module; RelativePathNotValid (InvalidArgument), an empty path or one with "." or "..".
    /// </summary>
    [Cmdlet(VerbsCommon.New, "OBRecoverableItem")]
    [OutputType(typeof(OBRecoverableItem))]
    public sealed class NewOBRecoverableItemCommand : OBCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public OBRecoverableItem OBRecoverableItem { get; set; }

        [Parameter(Mandatory = true, Position = 1)]
        [AllowEmptyString]
        public string RelativePath { get; set; }

        [Parameter(Mandatory = true, Position = 2)]
        public bool IsDir { get; set; }

        protected override object ErrorTarget
        {
            get { return RelativePath; }
        }

        protected override void Execute()
        {
            if (!OBRecoverableItem.Usable)
            {
                ThrowError("This recoverable item was not made by Get-OBRecoverableItem in this session (it may have been deserialized); "
                    + "get the recovery point again with Get-OBRecoverableItem -Source.",
                    "RecoverableItemNotUsable", ErrorCategory.InvalidArgument, OBRecoverableItem);
                return;
            }
            string rel = RecoveryItems.NormalizeRelative(RelativePath);
            if (string.IsNullOrEmpty(rel))
            {
                ThrowError(string.Format("The relative path '{0}' does not name an item: give a path relative to the data source's root "
                    + "without '.' or '..', e.g. \"data/report.txt\".", RelativePath),
                    "RelativePathNotValid", ErrorCategory.InvalidArgument, RelativePath);
                return;
            }
            WriteObject(RecoveryItems.ChildItem(OBRecoverableItem, rel, null, IsDir, 0, null));
        }
    }
}
