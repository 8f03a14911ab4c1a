using System.Management.Automation;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// New-OBFileSpec: one inclusion (or, with -Exclude, exclusion) per path. As in MARS scripts the
    /// paths are absolute; '*' and '?' may appear in the last component.
    ///
    /// Refusals made here: FileSpecPathNotAbsolute (InvalidArgument), a relative path;
    /// PathContainsNul (InvalidArgument), a path with a NUL character, which would cut it short.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "OBFileSpec")]
    [OutputType(typeof(OBFileSpec))]
    public sealed class NewOBFileSpecCommand : OBCmdletBase
    {
        private string current;

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public string[] FileSpec { get; set; }

        [Parameter]
        public SwitchParameter NonRecursive { get; set; }

        [Parameter]
        public SwitchParameter Exclude { get; set; }

        protected override object ErrorTarget
        {
            get { return current; }
        }

        protected override void Execute()
        {
            foreach (string path in FileSpec)
            {
                current = path;
                RefuseNul(path, "The file spec");
                if (IsWindowsStylePath(path))
                {
                    ThrowError(string.Format(
                        "The file spec '{0}' is a Windows path. This server uses POSIX paths (/srv/data); drive-letter paths such as C:\\... are for Windows servers. Give the absolute POSIX path of the file or folder.",
                        path), "FileSpecWindowsPath", ErrorCategory.InvalidArgument, path);
                    return;
                }
                if (!IsFullyQualified(path))
                {
                    ThrowError(string.Format(
                        "The file spec '{0}' is a relative path. Give the absolute path of the file or folder, for example {1}.",
                        path, System.IO.Path.Combine(SessionState.Path.CurrentFileSystemLocation.ProviderPath, path)),
                        "FileSpecPathNotAbsolute", ErrorCategory.InvalidArgument, path);
                    return;
                }
                string normalized = Native.FileSpecCheck(path, Exclude.IsPresent);
                WriteObject(PolicyMapping.MakeFileSpec(path, normalized, Exclude.IsPresent, !NonRecursive.IsPresent));
            }
        }
    
        /// <summary>A drive-letter path (C:, C:\x, C:/x) or a UNC path (\\host\share) on a server that is
        /// not Windows.</summary>
        private static bool IsWindowsStylePath(string path)
        {
            if (System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
                return false;
            if (path.Length >= 2 && path[1] == ':' && ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z'))
                && (path.Length == 2 || path[2] == '\\' || path[2] == '/'))
                return true;
            return path.StartsWith("\\\\", System.StringComparison.Ordinal);
        }
    }
}
