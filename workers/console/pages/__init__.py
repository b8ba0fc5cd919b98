"""One module per area of the console, each an APIRouter."""
