// PwshHost: runs one PowerShell script file in a runspace and exits with its status, as
// `pwsh -NoProfile -File script.ps1 args...` does, for the Windows lane under wine64 (docs/WINDOWS.md).
//   PwshHost.exe <script.ps1> [args...]
// Output (through Out-String -Stream) and Information (Write-Host) go to stdout; Error, Warning,
// Verbose and Debug to stderr, prefixed as the console host prefixes them.
// Exit status: the script's $LASTEXITCODE (its `exit N`, 0 when it sets none), 1 when it ends with a
// terminating error, 2 for a bad command line.
using System;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace OBAgent.Windows.PwshHost;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length < 1 || args[0] is "-h" or "--help" or "/?")
        {
            Console.Error.WriteLine("usage: PwshHost <script.ps1> [args...]");
            return 2;
        }
        string script = Path.GetFullPath(args[0]);
        if (!File.Exists(script))
        {
            Console.Error.WriteLine($"PwshHost: no script file '{script}': give the path of a .ps1 file.");
            return 2;
        }

        var iss = InitialSessionState.CreateDefault();
        // The lane's own scripts: no signing (the equivalent of pwsh -ExecutionPolicy Bypass).
        iss.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
        using var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;

        var stdout = Console.Out;
        var stderr = Console.Error;
        ps.Streams.Error.DataAdded += (s, e) =>
        {
            var r = ((PSDataCollection<ErrorRecord>)s!)[e.Index];
            stderr.WriteLine(Describe(r));
        };
        ps.Streams.Warning.DataAdded += (s, e) =>
            stderr.WriteLine("WARNING: " + ((PSDataCollection<WarningRecord>)s!)[e.Index].Message);
        ps.Streams.Verbose.DataAdded += (s, e) =>
            stderr.WriteLine("VERBOSE: " + ((PSDataCollection<VerboseRecord>)s!)[e.Index].Message);
        ps.Streams.Debug.DataAdded += (s, e) =>
            stderr.WriteLine("DEBUG: " + ((PSDataCollection<DebugRecord>)s!)[e.Index].Message);
        ps.Streams.Information.DataAdded += (s, e) =>
            stdout.WriteLine(((PSDataCollection<InformationRecord>)s!)[e.Index].MessageData?.ToString());

        var output = new PSDataCollection<PSObject>();
        output.DataAdded += (s, e) => stdout.WriteLine(((PSDataCollection<PSObject>)s!)[e.Index]?.ToString());

        runspace.SessionStateProxy.SetVariable("LASTEXITCODE", 0);
        ps.AddCommand(script);
        foreach (var a in args.Skip(1))
            ps.AddArgument(a);
        ps.AddCommand("Out-String").AddParameter("Stream", true);

        int status;
        try
        {
            ps.Invoke(null, output);
            object? code = runspace.SessionStateProxy.GetVariable("LASTEXITCODE");
            status = code is int i ? i : code is PSObject { BaseObject: int j } ? j : 0;
        }
        catch (RuntimeException ex)
        {
            stderr.WriteLine(Describe(ex.ErrorRecord));
            status = 1;
        }
        stdout.Flush();
        stderr.Flush();
        return status;
    }

    private static string Describe(ErrorRecord r)
    {
        string where = r.InvocationInfo?.PositionMessage ?? "";
        return $"{r}{(where.Length > 0 ? Environment.NewLine + where : "")}" +
               $"{Environment.NewLine}    + CategoryInfo          : {r.CategoryInfo}" +
               $"{Environment.NewLine}    + FullyQualifiedErrorId : {r.FullyQualifiedErrorId}";
    }
}
