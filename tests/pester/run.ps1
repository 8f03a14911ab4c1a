<#
.SYNOPSIS
    Runs the Pester tests of the OBAgent module.
.DESCRIPTION
    Imports Pester from -PesterPath, runs every tests/pester/*.Tests.ps1 against the module folder
    given by -ModulePath (passed to the tests as $env:OBAGENT_TEST_MODULE), prints
    "N passed, N failed, N skipped" alone on the last line and exits non-zero when anything failed.
.EXAMPLE
    pwsh -NoProfile -File tests/pester/run.ps1 -ModulePath build/module/OBAgent -PesterPath ~/.obagent-tools/pester/5.7.1/Pester.psd1
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $ModulePath,

    [Parameter(Mandatory = $true)]
    [string] $PesterPath,

    # Optional: run only the test files whose name matches (e.g. Registration).
    [string] $Filter = '*'
)

$ErrorActionPreference = 'Stop'

$module = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
if (-not (Test-Path -LiteralPath (Join-Path $module 'OBAgent.psd1'))) {
    throw "No OBAgent.psd1 in '$module'."
}
Import-Module -Name (Resolve-Path -LiteralPath $PesterPath).ProviderPath -Force

$env:OBAGENT_TEST_MODULE = $module

$config = New-PesterConfiguration
$config.Run.Path = @(Get-ChildItem -LiteralPath $PSScriptRoot -Filter "$Filter.Tests.ps1" | ForEach-Object FullName)
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Should.ErrorAction = 'Stop'
if ([Console]::IsOutputRedirected) { $config.Output.RenderMode = 'Plaintext' }

$result = Invoke-Pester -Configuration $config

# A failing BeforeAll/AfterAll or a file that does not load counts as a failure too.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
[Console]::Out.WriteLine('')
[Console]::Out.WriteLine(('{0} passed, {1} failed, {2} skipped' -f $result.PassedCount, $failed, $result.SkippedCount))
if ($failed -gt 0 -or $result.Result -ne 'Passed') {
    exit 1
}
exit 0
