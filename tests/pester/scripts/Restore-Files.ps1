# Restores the files that match a name from the newest point to a folder (steps G.22-G.26).
param([Parameter(Mandatory)] [string] $Location, [Parameter(Mandatory)] [string] $SearchString, [Parameter(Mandatory)] [string] $Destination)
$ErrorActionPreference = 'Stop'
Import-Module MSOnlineBackup
$src = Get-OBRecoverableSource
$rps = Get-OBRecoverableItem -Source $src[0]
$items = Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location $Location -SearchString $SearchString
if (-not $items) { throw "nothing matches $SearchString" }
$ro = New-OBRecoveryOption -DestinationPath $Destination -OverwriteType Overwrite
Start-OBRecovery -RecoverableItem $items -RecoveryOption $ro
